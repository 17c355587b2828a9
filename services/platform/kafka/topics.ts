import type { Kafka } from 'kafkajs';

export interface TopicSettings {
  KAFKA_TOPIC_EVENTS: string;
  KAFKA_TOPIC_ALERTS: string;
  KAFKA_TOPIC_DLQ: string;
  KAFKA_TOPIC_PARTITIONS: number;
}

/** Consumer group of a stage: `agenttrail.<stage>`. */
export const consumerGroup = (stage: string) => `agenttrail.${stage}`;

/**
 * Create the topics a stage needs when they are missing (idempotent). Production clusters
 * usually pre-create topics; creating them here keeps the local stack one command.
 */
export async function ensureTopics(kafka: Kafka, topics: string[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
