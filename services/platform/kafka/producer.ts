import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import type { KafkaClient } from './client.js';
import { keyedPartitioner } from './partitioner.js';

/**
 * The producer a service holds, and a message as it sends it (kafkajs' types, named here as
 * `KafkaClient` is in client.ts): code outside this folder imports these, never kafkajs.
 */
export type KafkaProducer = Producer;
export type KafkaMessage = Message;

/**
 * The one producer configuration for AgentTrail: idempotent, acks=all, so a send that
 * resolves means every in-sync replica has the records. Callers answer success only after
 * `send` resolves.
 */
export function createProducer(kafka: Kafka): KafkaProducer {
  return kafka.producer({
    idempotent: true,
    // One request in flight per broker keeps kafkajs' idempotent sequence numbers in order;
    // throughput comes from batching many messages per send instead.
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Bounded retries (kafkajs warns it weakens exactly-once): a gateway must answer 503 in
    // seconds when Kafka is away, not hang. Duplicates from a client retry are removed
    // downstream by event_id.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    // kafkajs' default partitioning, computed cheaper (partitioner.ts): same key, same partition.
    createPartitioner: keyedPartitioner,
  });
}

/** Send with acks=all; resolves only when Kafka acknowledged every message. */
export async function sendAcked(producer: Producer, topic: string, messages: Message[]): Promise<void> {
  if (messages.length === 0) return;
  await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
}

export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}

/** What a stage produces with (alerts, dead letters): the producer above, and nothing of kafkajs. */
export interface StageProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** acks=all; resolves only when Kafka acknowledged every message. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
}

export function createStageProducer(kafka: KafkaClient): StageProducer {
  return stageProducerOf(createProducer(kafka));
}

/** A stage's view of a producer made with `createProducer` (shared with a test's own sends). */
export function stageProducerOf(producer: Producer): StageProducer {
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    send: (topic, messages) => sendAcked(producer, topic, messages),
  };
}
