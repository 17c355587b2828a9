import type { Consumer, EachMessagePayload } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaClient, uniqueName } from './helpers/stack.js';

// Proves the pinned broker (Kafka 4.1.1) still serves every protocol version kafkajs 2.2.4
// negotiates: idempotent produce, group join/sync, fetch, offset commit/fetch.

const consumers: Consumer[] = [];
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
});

function newConsumer(groupId: string): Consumer {
  const consumer = kafkaClient().consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000 });
  consumers.push(consumer);
  return consumer;
}

/** Collect messages until `count` arrived (or fail after `timeoutMs`). */
function collect(
  consumer: Consumer,
  count: number,
  opts: { autoCommit?: boolean; timeoutMs?: number } = {},
): Promise<EachMessagePayload[]> {
  const got: EachMessagePayload[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`got ${got.length}/${count} messages`)),
      opts.timeoutMs ?? 30_000,
    );
    consumer
      .run({
        autoCommit: opts.autoCommit ?? true,
        eachMessage: async (payload) => {
          got.push(payload);
          if (got.length === count) {
            clearTimeout(timer);
            resolve(got);
          }
        },
      })
      .catch(reject);
  });
}

describe('Kafka (kafkajs 2.2.4 against the local broker)', () => {
  it('produces idempotently with acks=all and consumes in a group', async () => {
    const topic = uniqueName('it_produce');
    await createTopic(topic, 4);
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const acks = await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.every((r) => r.errorCode === 0)).toBe(true);

    const consumer = newConsumer(uniqueName('g_produce'));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await collect(consumer, 20);
    await consumer.disconnect();
    expect(got.map((m) => m.message.value?.toString()).sort()).toEqual(messages.map((m) => m.value).sort());
    // Same key -> same partition, as the broker assigned it.
    const partitions = new Set(got.map((m) => m.partition));
    expect(partitions.size).toBeGreaterThan(1);
  });

  it('resumes a consumer group after its committed offset', async () => {
    const topic = uniqueName('it_commit');
    const groupId = uniqueName('g_commit');
    await createTopic(topic, 1);
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const batch = (from: number) =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, i) => ({ value: `m${from + i}` })),
      });
    await batch(0);

    const first = newConsumer(groupId);
    await first.connect();
    await first.subscribe({ topic, fromBeginning: true });
    const firstGot = await collect(first, 5, { autoCommit: false });
    // Commit explicitly: the offset to commit is the NEXT one to read.
    await first.commitOffsets([{ topic, partition: 0, offset: '5' }]);
    await first.disconnect();
    expect(firstGot.map((m) => m.message.value?.toString())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);

    const admin = kafkaClient().admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    expect(committed[0]?.partitions[0]?.offset).toBe('5');

    await batch(5);
    await producer.disconnect();
    const second = newConsumer(groupId);
    await second.connect();
    // fromBeginning only applies without a committed offset: the group's offset wins.
    await second.subscribe({ topic, fromBeginning: true });
    const secondGot = await collect(second, 5);
    await second.disconnect();
    expect(secondGot[0]?.message.offset).toBe('5');
    expect(secondGot.map((m) => m.message.value?.toString())).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
  });

  it('rebalances partitions across two consumers of one group', async () => {
    const topic = uniqueName('it_rebalance');
    const groupId = uniqueName('g_rebalance');
    await createTopic(topic, 4);

    const assignments = new Map<string, number[]>();
    const track = (name: string, consumer: Consumer) =>
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assignments.set(name, [...(e.payload.memberAssignment[topic] ?? [])].sort());
      });
    const received = new Map<string, Set<number>>([
      ['a', new Set()],
      ['b', new Set()],
    ]);
    const runConsumer = async (name: string) => {
      const consumer = newConsumer(groupId);
      track(name, consumer);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition }) => void received.get(name)?.add(partition),
      });
      return consumer;
    };

    const a = await runConsumer('a');
    await expect.poll(() => assignments.get('a'), { timeout: 30_000 }).toEqual([0, 1, 2, 3]);
    const b = await runConsumer('b');
    // After the rebalance both own partitions, disjoint, covering all four.
    await expect
      .poll(() => (assignments.get('a')?.length ?? 0) + (assignments.get('b')?.length ?? 0), {
        timeout: 30_000,
      })
      .toBe(4);
    const owned = [...(assignments.get('a') ?? []), ...(assignments.get('b') ?? [])].sort();
    expect(owned).toEqual([0, 1, 2, 3]);
    expect(assignments.get('a')?.length).toBeGreaterThan(0);
    expect(assignments.get('b')?.length).toBeGreaterThan(0);

    // And both actually receive data from their own partitions.
    const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [0, 1, 2, 3].map((partition) => ({ partition, value: `p${partition}` })),
    });
    await producer.disconnect();
    await expect.poll(() => received.get('a')!.size + received.get('b')!.size, { timeout: 30_000 }).toBe(4);
    expect([...received.get('a')!].sort()).toEqual(assignments.get('a'));
    expect([...received.get('b')!].sort()).toEqual(assignments.get('b'));

    await Promise.all([a.disconnect(), b.disconnect()]);
  });
});
