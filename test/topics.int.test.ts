import { describe, expect, it } from 'vitest';
import { ensureTopics } from '../services/platform/kafka/topics.js';
import { kafkaClient, privateKafka } from './helpers/stack.js';

// Every service and the demo create their topics at start, often right after `stack up`:
// a broker that has just (re)started must not make that fail. With a few hundred partitions
// to load (the local stack keeps every test's topics), it answers a new topic's metadata with
// UNKNOWN_TOPIC_OR_PARTITION for a moment: kafkajs' own waitForLeaders threw at that.
describe('ensureTopics', () => {
  it('on a broker just restarted with 400 partitions, returns with every partition led; a send works at once', async () => {
    const kafka = await privateKafka();
    try {
      const bulk = Array.from({ length: 100 }, (_, i) => `bulk${i}`);
      await ensureTopics(kafkaClient(kafka.brokers), bulk, 4);
      await kafka.restart();

      const topics = ['fresh.events', 'fresh.alerts'];
      await ensureTopics(kafkaClient(kafka.brokers), topics, 6);

      const admin = kafkaClient(kafka.brokers).admin();
      await admin.connect();
      const meta = await admin.fetchTopicMetadata({ topics });
      await admin.disconnect();
      expect(meta.topics.map((t) => t.partitions.filter((p) => p.leader >= 0).length)).toEqual([6, 6]);

      // Idempotent: a second call with the topics present changes nothing.
      await ensureTopics(kafkaClient(kafka.brokers), topics, 3);

      const producer = kafkaClient(kafka.brokers).producer();
      await producer.connect();
      const [sent] = await producer.send({ topic: 'fresh.events', acks: -1, messages: [{ value: 'x' }] });
      await producer.disconnect();
      expect(sent?.errorCode).toBe(0);
    } finally {
      await kafka.cleanup();
    }
  });
});
