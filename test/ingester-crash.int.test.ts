import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, kafka, produceEvents, spawnIngester, storedCounts } from '../bench/ingest-harness.js';
import { killMidStreamAndRestart } from './helpers/ingester-kill.js';
import {
  clickhouseClient,
  deleteTopic,
  dropDatabase,
  testEndpoints,
  testLogDir,
  uniqueName,
} from './helpers/stack.js';

// kill -9 of the ingester (a real child process) mid-stream, then a restart: Kafka redelivers
// everything after the last commit; nothing is lost and reads still see each event once.
// Then a full redelivery (group offsets reset to the start) proves the duplicates a crash can
// cause are invisible to reads (FINAL / distinct ids), whatever the merge state.

const LOG_DIR = testLogDir('ingester');
const database = uniqueName('it_ingest_kill');
afterAll(async () => {
  await dropDatabase(database);
  for (const t of [`${database}.events`, `${database}.dlq`]) await deleteTopic(t).catch(() => {});
});

describe('ingester killed with SIGKILL mid-stream', () => {
  it('still stores exactly 100,000 distinct events after a restart', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const topic = `${database}.events`;
    const dlqTopic = `${database}.dlq`;
    await createTopics(brokers, [topic, dlqTopic], 6);
    const opts = {
      brokers,
      clickhouseUrl,
      database,
      topic,
      dlqTopic,
      logDir: LOG_DIR,
      env: {
        // Small batches: many insert/commit cycles, so the kill lands between an insert and
        // its commit often. A short session lets the restarted member take over quickly.
        INGESTER_FLUSH_MAX_ROWS: '4000',
        INGESTER_SESSION_TIMEOUT_MS: '6000',
        INGESTER_HEARTBEAT_INTERVAL_MS: '1000',
      },
    };
    // The stream is still being produced while the ingester runs and dies.
    const producing = produceEvents({
      brokers,
      topic,
      run: database,
      from: 0,
      to: 100_000,
      ratePerS: 25_000,
    });
    const { before, after } = await killMidStreamAndRestart({
      ingester: opts,
      producing,
      events: 100_000,
      killAfterRows: 30_000,
    });
    console.info(`kill -9 at ${before.raw} rows stored; after restart: ${JSON.stringify(after)}`);
  });

  it('hides a full redelivery of the same 100,000 events from reads', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const topic = `${database}.events`;
    const admin = kafka(brokers).admin();
    await admin.connect();
    // No member is active now: rewind the group so every message is delivered again.
    await admin.resetOffsets({ groupId: `${database}.ingester`, topic, earliest: true });
    await admin.disconnect();
    const ch = clickhouseClient();
    const rs = await ch.query({ query: 'SELECT now64(3) AS t', format: 'JSONEachRow' });
    const [{ t: replayFrom }] = (await rs.json<{ t: string }>()) as [{ t: string }];
    const replay = spawnIngester({
      brokers,
      clickhouseUrl,
      database,
      topic,
      dlqTopic: `${database}.dlq`,
      logDir: LOG_DIR,
      name: `${database}-replay`,
    });
    try {
      // Every event inserted a second time (the newest copy is the one FINAL keeps)…
      await expect
        .poll(
          async () => {
            const q = await ch.query({
              query:
                'SELECT count() AS n FROM {db:Identifier}.events FINAL WHERE ingested_at >= {t:DateTime64(3)}',
              query_params: { db: database, t: replayFrom },
              format: 'JSONEachRow',
            });
            const [row] = await q.json<{ n: string }>();
            return Number(row?.n);
          },
          { timeout: 90_000, interval: 1_000 },
        )
        .toBe(100_000);
      // …and still exactly 100,000 as read.
      const counts = await storedCounts(ch, database);
      expect(counts.final).toBe(100_000);
      const fin = await ch.query({
        query: 'SELECT count() AS n FROM {db:Identifier}.events FINAL WHERE ingested_at >= {t:DateTime64(3)}',
        query_params: { db: database, t: replayFrom },
        format: 'JSONEachRow',
      });
      expect(Number((await fin.json<{ n: string }>())[0]?.n)).toBe(100_000);
      expect(counts.distinct).toBe(100_000);
      console.info(`after full redelivery: ${JSON.stringify(counts)}`);
    } finally {
      replay.child.kill('SIGTERM');
      await replay.waitExit().catch(() => replay.child.kill('SIGKILL'));
      await ch.close();
    }
  });
});
