import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  committedTotal,
  createTopics,
  groupLag,
  produceEvents,
  rawCount,
  spawnIngester,
  waitForRows,
} from '../bench/ingest-harness.js';
import type { ClickHouseHandle } from '../stack/index.js';
import {
  deleteTopic,
  type Private,
  privateClickHouse,
  testEndpoints,
  testLogDir,
  uniqueName,
} from './helpers/stack.js';

// ClickHouse (a private instance) stopped for 10 s mid-stream and started again: the ingester
// keeps its process, commits nothing it has not written, and catches up when it returns.

const LOG_DIR = testLogDir('ingester');
const database = uniqueName('it_ingest_chdown');
const GROUP = `${database}.ingester`;
let engine: Private<ClickHouseHandle>;
beforeAll(async () => {
  engine = await privateClickHouse();
});
afterAll(async () => {
  await engine?.cleanup();
  for (const t of [`${database}.events`, `${database}.dlq`]) await deleteTopic(t).catch(() => {});
});

describe('ClickHouse unavailable mid-stream', () => {
  it('pauses, retries and resumes: exactly 100,000 stored and the ingester never exits', async () => {
    const { brokers } = testEndpoints();
    const topic = `${database}.events`;
    await createTopics(brokers, [topic, `${database}.dlq`], 6);
    const producing = produceEvents({ brokers, topic, run: database, from: 0, to: 100_000, ratePerS: 8_000 });
    const ingester = spawnIngester({
      brokers,
      clickhouseUrl: engine.url,
      database,
      topic,
      dlqTopic: `${database}.dlq`,
      logDir: LOG_DIR,
      name: database,
      env: {
        INGESTER_RETRY_INITIAL_MS: '100',
        INGESTER_RETRY_MAX_MS: '2000',
        INGESTER_FLUSH_MAX_ROWS: '10000',
      },
    });
    const ch = createClient({ url: engine.url });
    try {
      await waitForRows(ch, database, 20_000, 60_000, { distinct: false });

      await engine.stop();
      const stoppedAt = Date.now();
      // A commit already in flight may land just after the stop; after that, while ClickHouse
      // is away, the committed position must not move (the producer keeps adding meanwhile).
      await new Promise((r) => setTimeout(r, 2_000));
      const committedEarly = await committedTotal(brokers, GROUP, topic);
      await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - stoppedAt)));
      const committedLate = await committedTotal(brokers, GROUP, topic);
      expect(committedLate).toBe(committedEarly);
      expect(committedLate).toBeLessThan(100_000);
      expect(ingester.exited()).toBeUndefined();

      await engine.restart();
      await producing;
      const counts = await waitForRows(ch, database, 100_000, 90_000);
      expect(counts.distinct).toBe(100_000);
      expect(counts.final).toBe(100_000);
      expect(ingester.exited()).toBeUndefined();
      await expect.poll(() => groupLag(brokers, GROUP, topic), { timeout: 15_000 }).toBe(0);
      console.info(`outage: committed ${committedLate} while down; after: ${JSON.stringify(counts)}`);
      expect(await rawCount(ch, database)).toBeGreaterThanOrEqual(100_000);
    } finally {
      ingester.child.kill('SIGTERM');
      await ingester.waitExit().catch(() => ingester.child.kill('SIGKILL'));
      await producing.catch(() => {});
      await ch.close();
    }
  });
});
