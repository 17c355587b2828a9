import type { Message } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTopics,
  groupLag,
  produceEvents,
  readDeadLetters,
  spawnIngester,
  storedCounts,
  waitForRows,
} from '../bench/ingest-harness.js';
import {
  clickhouseClient,
  deleteTopic,
  dropDatabase,
  testEndpoints,
  testLogDir,
  uniqueName,
} from './helpers/stack.js';

// The ingester as a real child process against the shared stack: every event stored exactly
// once as read (FINAL / distinct ids), poison on the DLQ with its reason, offsets committed.

const LOG_DIR = testLogDir('ingester');
const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) {
    await dropDatabase(db);
    for (const t of [`${db}.events`, `${db}.dlq`]) await deleteTopic(t).catch(() => {});
  }
});

function names(prefix: string) {
  const name = uniqueName(prefix);
  databases.push(name);
  return { database: name, topic: `${name}.events`, dlqTopic: `${name}.dlq`, run: name };
}

describe('ingester', () => {
  it('stores 100,000 produced events exactly once and commits its offsets', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const n = names('it_ingest_100k');
    await createTopics(brokers, [n.topic, n.dlqTopic], 6);
    await produceEvents({ brokers, topic: n.topic, run: n.run, from: 0, to: 100_000 });

    const ingester = spawnIngester({ brokers, clickhouseUrl, ...n, logDir: LOG_DIR, name: n.database });
    const ch = clickhouseClient();
    try {
      const counts = await waitForRows(ch, n.database, 100_000, 90_000);
      expect(counts.final).toBe(100_000);
      expect(counts.distinct).toBe(100_000);
      // Offsets are committed after the insert: the group catches up to the end of the topic.
      await expect
        .poll(() => groupLag(brokers, `${n.database}.ingester`, n.topic), { timeout: 10_000 })
        .toBe(0);
      expect(ingester.exited()).toBeUndefined();

      // A graceful stop exits 0, and nothing more appears afterwards.
      ingester.child.kill('SIGTERM');
      expect((await ingester.waitExit()).code).toBe(0);
      expect((await storedCounts(ch, n.database)).final).toBe(100_000);
    } finally {
      ingester.child.kill('SIGKILL');
      await ch.close();
    }
  });

  it('sends poison messages to the DLQ with their reason and stores every valid event', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const n = names('it_ingest_poison');
    await createTopics(brokers, [n.topic, n.dlqTopic], 3);
    const poison: Array<{ value: string; reason: RegExp }> = [
      { value: '{"truncated": ', reason: /^not JSON/ },
      { value: 'plain text', reason: /^not JSON/ },
      { value: '[1,2,3]', reason: /^schema: .*JSON object/ },
      {
        value: JSON.stringify({ type: 'action', event_id: 'poison-no-envelope' }),
        reason: /^schema: .*tenant/,
      },
      {
        value: JSON.stringify({ type: 'nonsense', event_id: 'poison-type' }),
        reason: /^schema: type: unknown event type/,
      },
    ];
    // Every 500th valid event is followed by one poison message of each kind in turn.
    const extra = (i: number): Message[] =>
      i % 500 === 499 ? [{ key: 'poison', value: poison[Math.floor(i / 500) % poison.length]!.value }] : [];
    await produceEvents({ brokers, topic: n.topic, run: n.run, from: 0, to: 5_000, extra });
    const poisonCount = 10;

    const ingester = spawnIngester({ brokers, clickhouseUrl, ...n, logDir: LOG_DIR, name: n.database });
    const ch = clickhouseClient();
    try {
      const counts = await waitForRows(ch, n.database, 5_000, 60_000);
      expect(counts.final).toBe(5_000);
      const letters = await readDeadLetters(brokers, n.dlqTopic, poisonCount);
      expect(letters).toHaveLength(poisonCount);
      for (const letter of letters) {
        const kind = poison.find((p) => p.value === letter.value);
        expect(kind, `unexpected DLQ value ${letter.value}`).toBeDefined();
        expect(letter.headers['x-agenttrail-reason']).toMatch(kind!.reason);
        expect(letter.headers['x-agenttrail-code']).toBe('AT_ERR_MESSAGE_POISON');
        expect(letter.headers['x-agenttrail-source']).toMatch(
          new RegExp(`^${n.topic.replace('.', '\\.')}/\\d+/\\d+$`),
        );
      }
      expect(
        letters.find((l) => l.value?.includes('poison-no-envelope'))?.headers['x-agenttrail-event-id'],
      ).toBe('poison-no-envelope');
      // Poison is committed past too: nothing is left for the group to read.
      await expect
        .poll(() => groupLag(brokers, `${n.database}.ingester`, n.topic), { timeout: 10_000 })
        .toBe(0);
      expect(ingester.exited()).toBeUndefined();
    } finally {
      ingester.child.kill('SIGTERM');
      await ingester.waitExit().catch(() => ingester.child.kill('SIGKILL'));
      await ch.close();
    }
  });
});
