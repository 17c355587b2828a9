import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { always, type Receiver, startReceiver } from '../cli/pipeline/receiver.js';
import type { Alert } from '../schemas/index.js';
import { makeAlert } from '../services/alerter/testing.js';
import { deliveryRows, produceAlerts, spawnAlerter, waitUntil, writeRoutes } from './helpers/alerter.js';
import {
  clickhouseClient,
  createTopic,
  dropDatabase,
  kafkaClient,
  testEndpoints,
  uniqueName,
} from './helpers/stack.js';

// kill -9 with undelivered alerts, then restart: every alert is delivered exactly once.
// The first process never commits an offset (commit interval of 10 min), so after the crash
// the whole topic is replayed: alerts already delivered must be skipped by the delivery-log
// check, and the undelivered ones must be paged by the new process.

const SECRET = 'whsec_restart_test';
let topic: string;
let database: string;
let group: string;
let producer: Producer;
let ch: ClickHouseClient;
let rx: Receiver;
let env: Record<string, string>;

beforeAll(async () => {
  const { brokers, clickhouseUrl } = testEndpoints();
  topic = uniqueName('alerts_restart');
  database = uniqueName('alerter_restart');
  group = uniqueName('alerter_restart_group');
  await createTopic(topic, 2);
  rx = await startReceiver({ secret: SECRET });
  const routes = writeRoutes({
    version: 1,
    destinations: {
      hook: {
        type: 'webhook',
        url: `${rx.url}/hook`,
        secret_env: 'ALERTER_TEST_SECRET',
        group_wait_ms: 0,
        group_interval_ms: 0,
        backoff_base_ms: 100,
        backoff_max_ms: 400,
        max_attempts: 20,
      },
    },
    routes: [{ name: 'all', destinations: ['hook'] }],
  });
  env = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_ALERTS: topic,
    KAFKA_TOPIC_DLQ: `${topic}_dlq`,
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    ALERTER_CONSUMER_GROUP: group,
    ALERTER_SESSION_TIMEOUT_MS: '6000',
    ALERTER_START_FROM: 'earliest',
    ALERTER_ROUTES_FILE: routes,
    ALERTER_METRICS_PORT: '0',
    ALERTER_TEST_SECRET: SECRET,
    LOG_LEVEL: 'info',
  };
  producer = kafkaClient(brokers).producer();
  await producer.connect();
  ch = clickhouseClient(database, clickhouseUrl);
});

afterAll(async () => {
  await producer?.disconnect();
  await rx?.close();
  await ch?.close();
  await dropDatabase(database);
});

const pagesFor = (id: string) =>
  rx.delivered().filter((r) => (r.json as { group: { alert_ids: string[] } }).group.alert_ids.includes(id));

describe('alerter restart after kill -9', () => {
  it('delivers every alert exactly once across the crash', async () => {
    const first = await spawnAlerter({ ...env, ALERTER_COMMIT_INTERVAL_MS: '600000' });

    // A: delivered (and logged) before the crash, offsets never committed.
    const a: Alert[] = Array.from({ length: 5 }, () => makeAlert());
    await produceAlerts(producer, topic, a);
    await rx.waitFor((r) => r.delivered().length === 5, 30_000);
    const ids = (xs: Alert[]) => xs.map((x) => x.alert_id);
    await waitUntil(
      async () => (await deliveryRows(ch, ids(a))).filter((r) => r.status === 'delivered').length === 5,
      10_000,
      'A logged as delivered',
    );

    // B: the receiver is down; the alerter is retrying them when it is killed.
    rx.setBehaviour(always(503));
    const b: Alert[] = Array.from({ length: 5 }, () => makeAlert());
    await produceAlerts(producer, topic, b);
    await waitUntil(
      async () => new Set((await deliveryRows(ch, ids(b))).map((r) => r.alert_id)).size === 5,
      20_000,
      'B attempted',
    );
    first.child.kill('SIGKILL');
    await first.exited;
    const attemptsBefore = await deliveryRows(ch, ids(b));
    expect(attemptsBefore.every((r) => r.status === 'retry')).toBe(true);
    expect(rx.delivered()).toHaveLength(5);

    rx.setBehaviour(always(200));
    const second = await spawnAlerter(env);
    await rx.waitFor((r) => r.delivered().length >= 10, 60_000);
    await new Promise((r) => setTimeout(r, 2_000)); // room for any (wrong) duplicate
    const code = await second.stop('SIGTERM');

    for (const alert of [...a, ...b]) expect(pagesFor(alert.alert_id), alert.alert_id).toHaveLength(1);
    expect(rx.delivered()).toHaveLength(10);
    const rows = await deliveryRows(ch, ids([...a, ...b]));
    for (const alert of [...a, ...b]) {
      expect(rows.filter((r) => r.alert_id === alert.alert_id && r.status === 'delivered')).toHaveLength(1);
    }
    // Attempts kept counting across the restart (the audit trail shows the outage).
    const maxBefore = Math.max(...attemptsBefore.map((r) => r.attempt));
    const bDelivered = rows.filter((r) => ids(b).includes(r.alert_id) && r.status === 'delivered');
    expect(Math.min(...bDelivered.map((r) => r.attempt))).toBeGreaterThan(1);
    expect(maxBefore).toBeGreaterThanOrEqual(1);

    // Graceful stop drained and committed: the group is at the end of the topic.
    expect(code).toBe(0);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      for (const p of ends) {
        const at = committed!.partitions.find((c) => c.partition === p.partition)?.offset;
        // An empty partition has nothing to commit (-1).
        expect(p.high === '0' ? ['-1', '0'] : [p.high]).toContain(at);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
