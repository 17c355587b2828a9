import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackDown, stackStatus, stackUp } from '../stack/index.js';
import { isAlive } from '../stack/process.js';
import {
  clickhouseClient,
  createTopic,
  kafkaClient,
  privateClickHouse,
  privateKafka,
} from './helpers/stack.js';

// Crash safety of the engines as the stack runs them: a SIGKILLed engine restarted in the
// same folder keeps what it acknowledged before the crash.

describe('stack lifecycle', () => {
  it('ClickHouse keeps MergeTree data across kill -9 and restart', async () => {
    const ch = await privateClickHouse();
    try {
      let client = clickhouseClient(undefined, ch.url);
      await client.command({ query: 'CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x' });
      await client.insert({ table: 't', values: [{ x: 1 }, { x: 2 }, { x: 3 }], format: 'JSONEachRow' });
      await client.close();

      const before = ch.pid;
      await ch.kill();
      expect(isAlive(before)).toBe(false);
      await ch.restart();
      expect(ch.pid).not.toBe(before);

      client = clickhouseClient(undefined, ch.url);
      const rs = await client.query({ query: 'SELECT sum(x) AS s FROM t', format: 'JSONEachRow' });
      const [row] = await rs.json<{ s: string | number }>();
      expect(Number(row?.s)).toBe(6);
      await client.close();
    } finally {
      await ch.cleanup();
    }
    expect(isAlive(ch.pid)).toBe(false);
  });

  it('Kafka keeps acknowledged messages across kill -9 and restart', async () => {
    const kafka = await privateKafka();
    try {
      const topic = 'durable';
      await createTopic(topic, 2, kafka.brokers);
      const producer = kafkaClient(kafka.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      });
      await producer.disconnect();

      const before = kafka.pid;
      await kafka.kill();
      expect(isAlive(before)).toBe(false);
      await kafka.restart();
      expect(kafka.pid).not.toBe(before);

      const admin = kafkaClient(kafka.brokers).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(20);
    } finally {
      await kafka.cleanup();
    }
    expect(isAlive(kafka.pid)).toBe(false);
  });

  it('stackUp in a fresh state dir starts, reuses on the second call, and stackDown stops it', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'agenttrail-stack-'));
    // The shared stack's endpoints are exported by global setup; this test wants its own.
    const saved = { k: process.env.KAFKA_BROKERS, c: process.env.CLICKHOUSE_URL };
    delete process.env.KAFKA_BROKERS;
    delete process.env.CLICKHOUSE_URL;
    const log = () => {};
    try {
      const first = await stackUp({ stateDir, log });
      expect(first.started.sort()).toEqual(['clickhouse', 'kafka']);
      const second = await stackUp({ stateDir, log });
      expect(second.started).toEqual([]);
      expect(second.kafka.brokers).toEqual(first.kafka.brokers);
      expect(second.clickhouse.url).toEqual(first.clickhouse.url);
      const status = await stackStatus({ stateDir });
      expect([status.kafka.state, status.clickhouse.state]).toEqual(['running', 'running']);

      const down = await stackDown({ stateDir, log });
      expect(down.stopped.sort()).toEqual(['clickhouse', 'kafka']);
      expect(isAlive(status.kafka.pid)).toBe(false);
      expect(isAlive(status.clickhouse.pid)).toBe(false);
    } finally {
      await stackDown({ stateDir, log }).catch(() => {});
      process.env.KAFKA_BROKERS = saved.k;
      process.env.CLICKHOUSE_URL = saved.c;
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
