import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failTimes, hang, type Receiver, startReceiver } from '../cli/pipeline/receiver.js';
import type { Alert } from '../schemas/index.js';
import { verifySignature } from '../services/alerter/sign.js';
import { makeAlert } from '../services/alerter/testing.js';
import {
  type AlerterProcess,
  produceAlerts,
  spawnAlerter,
  waitForRows,
  writeRoutes,
} from './helpers/alerter.js';
import {
  clickhouseClient,
  createTopic,
  dropDatabase,
  kafkaClient,
  testEndpoints,
  uniqueName,
} from './helpers/stack.js';

// The acceptance cases of the alerter against real Kafka, real ClickHouse, the real alerter
// process and real HTTP receivers. Routes pick a destination per test by the `case` label.

const SECRET = 'whsec_integration_test';
const TIMELINE = 'https://trail.example';
const fast = { backoff_base_ms: 50, backoff_max_ms: 200, group_wait_ms: 0, group_interval_ms: 0 };

let topic: string;
let database: string;
let producer: Producer;
let ch: ClickHouseClient;
let alerter: AlerterProcess;
const rx: Record<string, Receiver> = {};

const byCase = (name: string, destinations: string[]) => ({
  name,
  match: { labels: { case: name } },
  destinations,
});
const alertFor = (c: string, over: Partial<Parameters<typeof makeAlert>[0]> = {}): Alert =>
  makeAlert({ labels: { case: c }, ...over });

beforeAll(async () => {
  const { brokers, clickhouseUrl } = testEndpoints();
  topic = uniqueName('alerts');
  database = uniqueName('alerter');
  await createTopic(topic, 3);
  rx.sig = await startReceiver({ secret: SECRET });
  rx.flaky = await startReceiver({ secret: SECRET, behaviour: failTimes(2, 500) });
  rx.hang = await startReceiver({ secret: SECRET, behaviour: hang });
  rx.fast = await startReceiver({ secret: SECRET });
  rx.group = await startReceiver({ secret: SECRET });
  rx.pd = await startReceiver();
  rx.slack = await startReceiver();
  const hook = (r: Receiver, extra: Record<string, unknown> = {}) => ({
    type: 'webhook' as const,
    url: `${r.url}/hook`,
    secret_env: 'ALERTER_TEST_SECRET',
    ...fast,
    ...extra,
  });
  const routesFile = writeRoutes({
    version: 1,
    destinations: {
      sig: hook(rx.sig),
      flaky: hook(rx.flaky),
      hang: hook(rx.hang, { timeout_ms: 1_000, max_attempts: 2, concurrency: 1 }),
      fast: hook(rx.fast),
      group: hook(rx.group, { group_wait_ms: 1_500, group_interval_ms: 5_000 }),
      pd: {
        type: 'pagerduty',
        url: `${rx.pd.url}/v2/enqueue`,
        routing_key_env: 'ALERTER_TEST_PD_KEY',
        ...fast,
      },
      slack: { type: 'slack', url_env: 'ALERTER_TEST_SLACK_URL', ...fast },
    },
    routes: [
      byCase('sig', ['sig']),
      byCase('flaky', ['flaky']),
      byCase('hang', ['hang', 'fast']),
      byCase('group', ['group']),
      byCase('pd', ['pd', 'slack']),
    ],
  });
  alerter = await spawnAlerter({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_ALERTS: topic,
    KAFKA_TOPIC_DLQ: `${topic}_dlq`,
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    ALERTER_CONSUMER_GROUP: uniqueName('alerter_group'),
    ALERTER_START_FROM: 'earliest',
    ALERTER_ROUTES_FILE: routesFile,
    ALERTER_TIMELINE_BASE_URL: TIMELINE,
    ALERTER_METRICS_PORT: '0',
    ALERTER_TEST_SECRET: SECRET,
    ALERTER_TEST_PD_KEY: 'pd-routing-key',
    ALERTER_TEST_SLACK_URL: `${rx.slack.url}/services/T000/B000/slack-token`,
    LOG_LEVEL: 'info',
  });
  producer = kafkaClient(brokers).producer();
  await producer.connect();
  ch = clickhouseClient(database, clickhouseUrl);
});

afterAll(async () => {
  await producer?.disconnect();
  const code = await alerter?.stop('SIGTERM');
  await Promise.all(Object.values(rx).map((r) => r.close()));
  await ch?.close();
  await dropDatabase(database);
  // A graceful stop is part of the contract: exit 0 after draining and committing.
  expect(code).toBe(0);
});

describe('alerter (real Kafka, ClickHouse and HTTP receivers)', () => {
  it('signs webhooks so a receiver can verify them; a tampered body or an old timestamp fails', async () => {
    const alert = alertFor('sig', { tenant: 'acme', task_id: 'task-42' });
    await produceAlerts(producer, topic, [alert]);
    await rx.sig!.waitFor((r) => r.delivered().length === 1);
    const got = rx.sig!.received[0]!;
    expect(got.signature).toMatchObject({ ok: true });
    const header = String(got.headers['x-agenttrail-signature']);
    expect(verifySignature(SECRET, header, got.body).ok).toBe(true);
    expect(verifySignature(SECRET, header, got.body.replace('task-42', 'task-43'))).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature(SECRET, header, got.body, { now: Date.now() + 10 * 60_000 })).toEqual({
      ok: false,
      reason: 'stale',
    });
    const body = got.json as { alert: Alert; group: { count: number }; delivery_id: string };
    expect(body.alert.alert_id).toBe(alert.alert_id);
    expect(body.alert.link).toBe(`${TIMELINE}/v1/tasks/task-42?tenant=acme`);
    expect(got.headers['x-agenttrail-delivery']).toBe(body.delivery_id);
    // The alerter's own log never carries the secret or the Slack token.
    expect(alerter.output.join('')).not.toMatch(/whsec_integration_test|slack-token/);
  });

  it('a receiver answering 500 twice then 200 gets exactly one delivery; three attempts are logged', async () => {
    const alert = alertFor('flaky');
    await produceAlerts(producer, topic, [alert]);
    await rx.flaky!.waitFor((r) => r.delivered().length === 1);
    await new Promise((r) => setTimeout(r, 500)); // room for any (wrong) extra request
    expect(rx.flaky!.received.map((r) => r.answer)).toEqual([500, 500, 200]);
    expect(rx.flaky!.delivered()).toHaveLength(1);
    const rows = await waitForRows(ch, [alert.alert_id], (r) => r.length === 3);
    expect(rows.map((r) => [r.attempt, r.status, r.http_status])).toEqual([
      [1, 'retry', 500],
      [2, 'retry', 500],
      [3, 'delivered', 200],
    ]);
  });

  it('a receiver that hangs does not delay delivery to another destination', async () => {
    const alerts = [alertFor('hang'), alertFor('hang'), alertFor('hang')];
    const sent = Date.now();
    await produceAlerts(producer, topic, alerts);
    await rx.fast!.waitFor((r) => r.delivered().length === 3, 10_000);
    const slowest = Math.max(...rx.fast!.delivered().map((r) => r.at)) - sent;
    // The hanging destination holds its only slot for 1 s per attempt; the other one is unaffected.
    expect(slowest).toBeLessThan(1_500);
    expect(rx.hang!.received.length).toBeGreaterThanOrEqual(1);
    expect(rx.hang!.delivered()).toHaveLength(0);
  });

  it('ten alerts with the same dedup key within the window make one page with count 10', async () => {
    const alerts = Array.from({ length: 10 }, () => alertFor('group', { dedup_key: 'acme/task-9/egress' }));
    for (const a of alerts) await produceAlerts(producer, topic, [a]); // ten separate sends
    await rx.group!.waitFor((r) => r.delivered().length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 2_000)); // past the group wait: no second page
    expect(rx.group!.received).toHaveLength(1);
    const body = rx.group!.received[0]!.json as { group: { count: number; alert_ids: string[] } };
    expect(body.group.count).toBe(10);
    expect(body.group.alert_ids.sort()).toEqual(alerts.map((a) => a.alert_id).sort());
    const rows = await waitForRows(ch, body.group.alert_ids, (r) => r.length === 10);
    expect(new Set(rows.map((r) => r.delivery_id)).size).toBe(1);
    expect(rows.every((r) => r.status === 'delivered' && r.group_count === 10)).toBe(true);
  });

  it('PagerDuty gets trigger then resolve with the dedup key; Slack gets a message', async () => {
    const firing = alertFor('pd', { dedup_key: 'pd-key-1', severity: 'critical' });
    await produceAlerts(producer, topic, [firing]);
    await rx.pd!.waitFor((r) => r.delivered().length === 1);
    const resolved = alertFor('pd', { dedup_key: 'pd-key-1', severity: 'critical', status: 'resolved' });
    await produceAlerts(producer, topic, [resolved]);
    await rx.pd!.waitFor((r) => r.delivered().length === 2);
    expect(rx.pd!.received.map((r) => r.path)).toEqual(['/v2/enqueue', '/v2/enqueue']);
    expect(rx.pd!.received[0]!.json).toMatchObject({
      routing_key: 'pd-routing-key',
      event_action: 'trigger',
      dedup_key: 'pd-key-1',
      payload: { severity: 'critical' },
    });
    expect(rx.pd!.received[1]!.json).toEqual({
      routing_key: 'pd-routing-key',
      event_action: 'resolve',
      dedup_key: 'pd-key-1',
    });
    await rx.slack!.waitFor((r) => r.delivered().length === 2);
    expect(rx.slack!.received[0]!.path).toBe('/services/T000/B000/slack-token');
    expect((rx.slack!.received[0]!.json as { text: string }).text).toContain('[CRITICAL]');
    expect((rx.slack!.received[1]!.json as { text: string }).text).toMatch(/^RESOLVED/);
  });
});
