import type { ClickHouseClient } from '@clickhouse/client';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../cli/pipeline/receiver.js';
import type { Alert, AlertStatusRecord } from '../schemas/index.js';
import { makeAlert } from '../services/alerter/testing.js';
import { createAlertStatusWriter } from '../services/api/alert-status/writer.js';
import type { ApiPrincipal } from '../services/api/roles.js';
import { alertStatusRoutes } from '../services/api/routes/alert-status.js';
import { toAlertRow } from '../services/detector/io/alert-rows.js';
import { createClickHouse } from '../services/platform/clickhouse/client.js';
import { migrate } from '../services/platform/clickhouse/migrate.js';
import { AlertStatusRepository, AlertsRepository } from '../services/platform/clickhouse/read/index.js';
import type { AgentTrailError } from '../services/platform/errors.js';
import { wireError } from '../services/platform/http/wire-error.js';
import { createProducer } from '../services/platform/kafka/producer.js';
import { type AlerterProcess, produceAlerts, spawnAlerter, writeRoutes } from './helpers/alerter.js';
import {
  createTopic,
  deleteTopic,
  dropDatabase,
  kafkaClient,
  testEndpoints,
  uniqueName,
} from './helpers/stack.js';

// Acknowledge then resolve an alert end to end (issue 11): the route plugin in an in-process
// fastify app (a fake principal per request instead of the API's auth plugin), the real writer
// producing to Kafka and storing in ClickHouse, and the real alerter process paging a
// PagerDuty-format receiver, Slack and a signed webhook from the status topic.

const SECRET = 'whsec_status_test';
const fast = { backoff_base_ms: 50, backoff_max_ms: 200, group_wait_ms: 0, group_interval_ms: 0 };
const PRINCIPALS: Record<string, ApiPrincipal> = {
  'key-r1': { keyId: 'key-r1', tenant: 'acme', role: 'responder' },
  'key-r2': { keyId: 'key-r2', tenant: 'acme', role: 'admin' },
  'key-an': { keyId: 'key-an', tenant: 'acme', role: 'analyst' },
  'key-gx': { keyId: 'key-gx', tenant: 'globex', role: 'responder' },
};

let alertsTopic: string;
let statusTopic: string;
let database: string;
let routesFile: string;
let ch: ClickHouseClient;
let seedProducer: Producer;
let apiProducer: Producer;
let alerter: AlerterProcess;
let app: FastifyInstance;
let history: AlertStatusRepository;
let alerts: AlertsRepository;
const rx: Record<'pd' | 'slack' | 'hook', Receiver> = {} as never;

function alerterEnv(): Record<string, string> {
  const { brokers, clickhouseUrl } = testEndpoints();
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_ALERTS: alertsTopic,
    KAFKA_TOPIC_ALERT_STATUS: statusTopic,
    KAFKA_TOPIC_DLQ: `${alertsTopic}_dlq`,
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    ALERTER_CONSUMER_GROUP: `${alertsTopic}_group`,
    ALERTER_START_FROM: 'earliest',
    ALERTER_ROUTES_FILE: routesFile,
    ALERTER_METRICS_PORT: '0',
    ALERTER_COMMIT_INTERVAL_MS: '100',
    ALERTER_SESSION_TIMEOUT_MS: '6000',
    ALERTER_TEST_SECRET: SECRET,
    ALERTER_TEST_PD_KEY: 'pd-routing-key',
    ALERTER_TEST_SLACK_URL: `${rx.slack.url}/services/T000/B000/slack-token`,
    AGENTTRAIL_STATE_DIR: process.env.AGENTTRAIL_STATE_DIR ?? '/tmp/at-status',
    LOG_LEVEL: 'info',
  };
}

/** An alert as the detector leaves it: on the alerts topic and in the `alerts` table. */
async function seedAlert(over: Partial<Parameters<typeof makeAlert>[0]> = {}): Promise<Alert> {
  const alert = makeAlert({ tenant: 'acme', severity: 'critical', dedup_key: uniqueName('dk'), ...over });
  await produceAlerts(seedProducer, alertsTopic, [alert]);
  await ch.insert({ table: 'alerts', values: [toAlertRow(alert)], format: 'JSONEachRow' });
  return alert;
}

const post = (key: string | undefined, alertId: string, action: string, body: unknown) =>
  app.inject({
    method: 'POST',
    url: `/v1/alerts/${alertId}/${action}`,
    headers: key ? { 'x-test-key': key } : {},
    payload: body as Record<string, unknown>,
  });

const pdFor = (dedupKey: string) =>
  rx.pd.delivered().filter((r) => (r.json as { dedup_key?: string }).dedup_key === dedupKey);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The alerter's status group has committed every offset of the status topic: all of it is final. */
async function statusConsumedToEnd(timeoutMs = 20_000): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await expect
      .poll(
        async () => {
          const ends = await admin.fetchTopicOffsets(statusTopic);
          const [committed] = await admin.fetchOffsets({
            groupId: `${alertsTopic}_group.status`,
            topics: [statusTopic],
          });
          // An empty partition has nothing to commit (its group offset stays -1).
          return ends.every(
            (e) =>
              e.high === e.low ||
              committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
          );
        },
        { timeout: timeoutMs, interval: 100 },
      )
      .toBe(true);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  const { brokers, clickhouseUrl } = testEndpoints();
  alertsTopic = uniqueName('status_alerts');
  statusTopic = uniqueName('status_records');
  database = uniqueName('it_status');
  await Promise.all([createTopic(alertsTopic, 3), createTopic(statusTopic, 3)]);
  const settings = {
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: database,
    CLICKHOUSE_USER: 'default',
    CLICKHOUSE_PASSWORD: '',
  };
  const admin = createClickHouse(settings, 'test', 'default');
  await migrate(admin, { database, log: pino({ level: 'silent' }) });
  await admin.close();
  ch = createClickHouse(settings, 'test');
  const ctx = { client: ch, database, caller: 'alert-status-test' };
  history = new AlertStatusRepository(ctx);
  alerts = new AlertsRepository(ctx);

  rx.pd = await startReceiver();
  rx.slack = await startReceiver();
  rx.hook = await startReceiver({ secret: SECRET });
  routesFile = writeRoutes({
    version: 1,
    destinations: {
      pd: {
        type: 'pagerduty',
        url: `${rx.pd.url}/v2/enqueue`,
        routing_key_env: 'ALERTER_TEST_PD_KEY',
        ...fast,
      },
      slack: { type: 'slack', url_env: 'ALERTER_TEST_SLACK_URL', ...fast },
      hook: { type: 'webhook', url: `${rx.hook.url}/hook`, secret_env: 'ALERTER_TEST_SECRET', ...fast },
    },
    routes: [{ name: 'all', match: { tenants: ['acme', 'globex'] }, destinations: ['pd', 'slack', 'hook'] }],
  });
  alerter = await spawnAlerter(alerterEnv());

  const kafka = kafkaClient(brokers);
  seedProducer = kafka.producer();
  apiProducer = createProducer(kafka);
  await Promise.all([seedProducer.connect(), apiProducer.connect()]);

  app = Fastify();
  app.decorateRequest('apiPrincipal', null);
  // Stands in for the API's auth plugin: the test header names a principal.
  app.addHook('onRequest', async (req) => {
    req.apiPrincipal = PRINCIPALS[String(req.headers['x-test-key'] ?? '')] ?? null;
  });
  app.setErrorHandler((err: FastifyError | AgentTrailError, _req, reply) => {
    const d = wireError(err, { maxBodyBytes: 1024 * 1024 });
    if (!d) return reply.code(500).send({ code: 'AT_ERR_INTERNAL', message: String(err) });
    return reply.code(d.status).send({ code: d.code, message: d.message });
  });
  await app.register(alertStatusRoutes, {
    writer: createAlertStatusWriter({ producer: apiProducer, topic: statusTopic, clickhouse: ch, database }),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await Promise.all([seedProducer?.disconnect(), apiProducer?.disconnect()]);
  const code = await alerter?.stop('SIGTERM');
  await Promise.all(Object.values(rx).map((r) => r.close()));
  await ch?.close();
  await dropDatabase(database);
  await Promise.all([deleteTopic(alertsTopic), deleteTopic(statusTopic)]).catch(() => undefined);
  expect(code).toBe(0);
});

describe('acknowledge and resolve (route plugin, writer, real Kafka, ClickHouse and alerter)', () => {
  let alert: Alert;
  let resolveAnswer: unknown;

  it('acknowledge then resolve: history with who and why; PagerDuty acknowledge then resolve for the dedup key; Slack and webhook follow-ups', async () => {
    alert = await seedAlert();
    await rx.pd.waitFor(() => pdFor(alert.dedup_key).length === 1);

    const ack = await post('key-r1', alert.alert_id, 'acknowledge', { reason: 'looking into it' });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({
      alert_id: alert.alert_id,
      dedup_key: alert.dedup_key,
      status: 'acknowledged',
      record: {
        type: 'alert.acknowledged',
        by: { key_id: 'key-r1', role: 'responder' },
        reason: 'looking into it',
      },
    });
    await rx.pd.waitFor(() => pdFor(alert.dedup_key).length === 2);

    const res = await post('key-r2', alert.alert_id, 'resolve', {
      reason: 'credential revoked; agent scope fixed',
    });
    expect(res.statusCode, res.body).toBe(200);
    resolveAnswer = res.json();
    expect(resolveAnswer).toMatchObject({
      status: 'resolved',
      record: { type: 'alert.resolved', by: { key_id: 'key-r2', role: 'admin' } },
    });
    await rx.pd.waitFor(() => pdFor(alert.dedup_key).length === 3);

    // The status history, through the read layer: both changes, who and why, in order.
    const records = await history.history('acme', alert.alert_id);
    expect(records.map((r) => [r.type, r.by.key_id, r.by.role, r.reason])).toEqual([
      ['alert.acknowledged', 'key-r1', 'responder', 'looking into it'],
      ['alert.resolved', 'key-r2', 'admin', 'credential revoked; agent scope fixed'],
    ]);
    expect(records[1]).toEqual((resolveAnswer as { record: AlertStatusRecord }).record);
    expect(await history.current('acme', alert.alert_id)).toMatchObject({ status: 'resolved' });
    expect((await history.statusOf('acme', [alert.alert_id])).get(alert.alert_id)).toBe('resolved');
    // The alert row itself says resolved, so the alerts list's status filter sees it.
    expect((await alerts.get('acme', alert.alert_id))?.status).toBe('resolved');
    // Another tenant sees no history and no status.
    expect(await history.history('globex', alert.alert_id)).toEqual([]);
    expect(await history.current('globex', alert.alert_id)).toBeUndefined();

    // PagerDuty: trigger, acknowledge, resolve, all with the alert's dedup key.
    expect(pdFor(alert.dedup_key).map((r) => r.json)).toEqual([
      expect.objectContaining({ event_action: 'trigger', dedup_key: alert.dedup_key }),
      { routing_key: 'pd-routing-key', event_action: 'acknowledge', dedup_key: alert.dedup_key },
      { routing_key: 'pd-routing-key', event_action: 'resolve', dedup_key: alert.dedup_key },
    ]);
    // Slack: the page, then two follow-ups naming who and why.
    await rx.slack.waitFor((r) => r.delivered().length === 3);
    const slack = rx.slack.delivered().map((r) => r.json as { text: string; blocks: unknown[] });
    expect(slack.map((s) => s.text.split(' ')[0])).toEqual(['[CRITICAL]', 'ACKNOWLEDGED:', 'RESOLVED:']);
    expect(JSON.stringify(slack[2]!.blocks)).toContain('credential revoked; agent scope fixed');
    expect(JSON.stringify(slack[2]!.blocks)).toContain('key-r2');
    // Webhook: signed follow-ups with the change.
    await rx.hook.waitFor((r) => r.delivered().length === 3);
    const hooks = rx.hook.delivered();
    expect(hooks.every((h) => h.signature?.ok)).toBe(true);
    expect(hooks.map((h) => (h.json as { kind: string }).kind)).toEqual([
      'agenttrail.alert',
      'agenttrail.alert.acknowledged',
      'agenttrail.alert.resolved',
    ]);
    expect((hooks[2]!.json as { status_change: unknown }).status_change).toMatchObject({
      type: 'alert.resolved',
      by: { key_id: 'key-r2' },
      reason: 'credential revoked; agent scope fixed',
    });
    // The delivery log has each follow-up, delivered, under its status_id.
    await expect
      .poll(
        async () =>
          (await history.deliveries('acme', alert.alert_id)).filter((d) => d.status === 'delivered'),
        {
          timeout: 10_000,
        },
      )
      .toHaveLength(6);
  });

  it('a second resolve answers the same and sends nothing more; acknowledging after resolve is a 409', async () => {
    const again = await post('key-r1', alert.alert_id, 'resolve', { reason: 'closing again' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(resolveAnswer);
    const late = await post('key-r1', alert.alert_id, 'acknowledge', { reason: 'late ack' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'AT_ERR_CONFLICT' });
    await sleep(1_500); // room for any (wrong) extra page
    expect(pdFor(alert.dedup_key)).toHaveLength(3);
    expect(rx.slack.delivered()).toHaveLength(3);
    expect(await history.history('acme', alert.alert_id)).toHaveLength(2);
  });

  it('a status record produced again (live, and after an alerter kill and restart) is not paged again', async () => {
    // As the writer does after a failed store: the same record (same status_id) on the topic again.
    const [resolved] = (await history.history('acme', alert.alert_id)).filter(
      (r) => r.type === 'alert.resolved',
    );
    const again = () =>
      apiProducer.send({
        topic: statusTopic,
        acks: -1,
        messages: [{ key: alert.dedup_key, value: JSON.stringify({ ...resolved, alert }) }],
      });
    await again();
    await statusConsumedToEnd();
    await alerter.stop('SIGKILL');
    alerter = await spawnAlerter(alerterEnv());
    // A fresh alert and its acknowledge prove the restarted alerter pages from both topics.
    const fresh = await seedAlert();
    await rx.pd.waitFor(() => pdFor(fresh.dedup_key).length === 1, 40_000);
    // Produced after the restart, past what the new member may have seen: only the delivery-log
    // check of every status record (consume.ts checkAll) keeps it from paging again.
    await again();
    const ack = await post('key-r1', fresh.alert_id, 'acknowledge', { reason: 'after restart' });
    expect(ack.statusCode).toBe(200);
    await rx.pd.waitFor(() => pdFor(fresh.dedup_key).length === 2);
    await statusConsumedToEnd();
    expect(pdFor(alert.dedup_key)).toHaveLength(3);
    expect(rx.slack.delivered()).toHaveLength(5); // 3 for the first alert, 2 for the fresh one
  });

  it('refuses without the responder role, hides other tenants, and wants a reason', async () => {
    const a = await seedAlert();
    expect((await post(undefined, a.alert_id, 'resolve', { reason: 'x' })).statusCode).toBe(401);
    const analyst = await post('key-an', a.alert_id, 'resolve', { reason: 'x' });
    expect(analyst.statusCode).toBe(403);
    expect(analyst.json()).toMatchObject({ code: 'AT_ERR_AUTH_FORBIDDEN' });
    const other = await post('key-gx', a.alert_id, 'resolve', { reason: 'x' });
    const missing = await post('key-gx', 'f'.repeat(32), 'resolve', { reason: 'x' });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ code: 'AT_ERR_NOT_FOUND', message: `no alert ${a.alert_id}` });
    expect(missing.json()).toEqual({ code: 'AT_ERR_NOT_FOUND', message: `no alert ${'f'.repeat(32)}` });
    expect((await post('key-r1', a.alert_id, 'resolve', {})).statusCode).toBe(400);
    expect((await post('key-r1', a.alert_id, 'resolve', { reason: '   ' })).statusCode).toBe(400);
    expect((await post('key-r1', a.alert_id, 'resolve', { reason: 'x'.repeat(1025) })).statusCode).toBe(400);
    expect(await history.history('acme', a.alert_id)).toEqual([]);
  });
});
