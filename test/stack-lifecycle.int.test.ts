import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, waitUntil } from '../stack/process.js';
import {
  clickhouseClient,
  createTopic,
  kafkaClient,
  privateClickHouse,
  privateKafka,
} from './helpers/stack.js';
import { holdPort, processesUsing, run, stack } from './helpers/stack-cli.js';

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

  // The acceptance, through the command a user types: the default ports taken by
  // another listener, `up` twice, the broker killed with -9, `up` again, then `down`.
  it('agenttrail stack: other ports when 9092/8123 are taken, reuse, external endpoints, kill -9 recovery, clean down', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'agenttrail-stack-'));
    // Held only when free: on a machine where the shared stack has them, they are taken already.
    const holders = await Promise.all([9092, 8123].map(holdPort));
    try {
      const first = stack(stateDir, 'up');
      expect(first.started.sort()).toEqual(['clickhouse', 'kafka']);
      expect(first.kafka.brokers).toHaveLength(1);
      expect(first.kafka.brokers[0]).not.toBe('127.0.0.1:9092');
      expect(first.clickhouse.url).not.toBe('http://127.0.0.1:8123');

      const second = stack(stateDir, 'up');
      expect(second.started).toEqual([]);
      expect(second.kafka.brokers).toEqual(first.kafka.brokers);
      expect(second.clickhouse.url).toBe(first.clickhouse.url);

      // KAFKA_BROKERS and CLICKHOUSE_URL given: another state dir starts nothing, reports those.
      const otherDir = mkdtempSync(join(tmpdir(), 'agenttrail-stack-ext-'));
      try {
        const ext = { KAFKA_BROKERS: first.kafka.brokers.join(','), CLICKHOUSE_URL: first.clickhouse.url };
        const external = stack(otherDir, 'up', ext);
        expect(external).toMatchObject({ started: [], external: true, kafka: first.kafka });
        expect(external.clickhouse).toEqual(first.clickhouse);
        expect(stack(otherDir, 'status', ext)).toMatchObject({ kafka: { state: 'external' } });
        expect(processesUsing(otherDir)).toEqual([]);
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }

      const topic = 'kept';
      await createTopic(topic, 1, first.kafka.brokers);
      const producer = kafkaClient(first.kafka.brokers).producer({
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
      await producer.disconnect();

      const before = stack(stateDir, 'status');
      process.kill(before.kafka.pid, 'SIGKILL');
      await waitUntil(async () => !isAlive(before.kafka.pid), { what: 'broker gone', timeoutMs: 10_000 });
      const dead = run(stateDir, 'status');
      expect(dead.status).toBe(3); // `status` fails while a part is down
      expect(JSON.parse(dead.stdout).kafka.state).toBe('dead');

      const third = stack(stateDir, 'up');
      expect(third.started).toEqual(['kafka']);
      expect(third.kafka.brokers).toEqual(first.kafka.brokers); // back on its recorded port
      expect(third.clickhouse.url).toBe(first.clickhouse.url);
      const admin = kafkaClient(third.kafka.brokers).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      expect(offsets.map((p) => Number(p.high))).toEqual([3]);

      const running = stack(stateDir, 'status');
      // The scan below sees both engines while they run, so its empty answer after `down` counts.
      expect(processesUsing(stateDir).sort()).toEqual([running.kafka.pid, running.clickhouse.pid].sort());
      const down = stack(stateDir, 'down');
      expect(down.stopped.sort()).toEqual(['clickhouse', 'kafka']);
      expect(processesUsing(stateDir)).toEqual([]);
      expect(stack(stateDir, 'down').stopped).toEqual([]);
    } finally {
      run(stateDir, 'down');
      await Promise.all(holders.map((h) => h?.close()));
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
