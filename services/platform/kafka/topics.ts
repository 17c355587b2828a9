import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';

export interface TopicSettings {
  KAFKA_TOPIC_EVENTS: string;
  KAFKA_TOPIC_ALERTS: string;
  KAFKA_TOPIC_DLQ: string;
  KAFKA_TOPIC_PARTITIONS: number;
}

/** Consumer group of a stage: `agenttrail.<stage>`. */
export const consumerGroup = (stage: string) => `agenttrail.${stage}`;

/**
 * Create the topics a stage needs when they are missing (idempotent), and return once every
 * partition has a leader. Production clusters usually pre-create topics; creating them here
 * keeps the local stack one command.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions: number,
  timeoutMs = 30_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false, // kafkajs' default true: see waitForLeaders below
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
      });
    }
    await waitForLeaders(admin, topics, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Not kafkajs' `waitForLeaders`: it retries only LEADER_NOT_AVAILABLE, while a broker that has
 * just started answers the new topic's metadata with UNKNOWN_TOPIC_OR_PARTITION for a moment
 * (seen on the first `npm run demo` after `stack up`), which it throws.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let why: string;
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const leaderless = meta.topics.filter((t) => t.partitions.some((p) => p.leader < 0));
      if (leaderless.length === 0) return;
      why = `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable) throw err;
      why = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} not ready after ${timeoutMs} ms: ${why}`);
    await sleep(200);
  }
}
