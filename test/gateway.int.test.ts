import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../services/gateway/app.js';
import type { AppConfig } from '../services/gateway/config.js';
import { KeyStore, mintKey } from '../services/gateway/keys.js';
import { kafkaSink } from '../services/gateway/sink.js';
import { createKafka } from '../services/platform/kafka/client.js';
import { createProducer } from '../services/platform/kafka/producer.js';
import { createTopic, kafkaClient, privateKafka, testEndpoints, uniqueName } from './helpers/stack.js';

// The gateway over real HTTP against a real broker: the acceptance list of issue 3.

const CONFIG: AppConfig = {
  GATEWAY_FINGERPRINT_KEY: 'integration-fingerprint-key',
  GATEWAY_METRICS_TOKEN: undefined,
  GATEWAY_MAX_BODY_BYTES: 256 * 1024,
  GATEWAY_MAX_BATCH_EVENTS: 500,
  GATEWAY_RATE_LIMIT_EVENTS_PER_S: 100_000,
  GATEWAY_RATE_LIMIT_BURST_EVENTS: 100_000,
  GATEWAY_PRODUCE_TIMEOUT_MS: 3000,
  GATEWAY_RETRY_AFTER_S: 2,
};
const log = pino({ level: 'silent' });
const acme = mintKey('acme');
const keys = new KeyStore([acme.record]);

async function startGateway(brokers: string[], topic: string, config: AppConfig = CONFIG) {
  const kafka = createKafka({ KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'gw-int' }, log);
  const producer = createProducer(kafka);
  const sink = kafkaSink(producer, topic, config.GATEWAY_PRODUCE_TIMEOUT_MS);
  await producer.connect();
  const app = await buildApp({ config, keys, sink });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    producer,
    async close() {
      await app.close();
      await producer.disconnect().catch(() => {});
    },
  };
}

let seq = 0;
function event(over: Record<string, unknown> = {}) {
  seq++;
  return {
    event_id: `int-${Date.now().toString(36)}-${seq}`,
    schema_version: 1,
    type: 'action',
    occurred_at: new Date().toISOString(),
    tenant: 'acme',
    agent: { id: 'bot' },
    task_id: 'task-int',
    seq,
    data: { tool: 'http.get', operation: 'read', outcome: 'ok' },
    ...over,
  };
}

interface Body {
  code?: string;
  message?: string;
  accepted?: number;
  results?: Array<Record<string, unknown>>;
}
const json = async (res: Response): Promise<Body> => (await res.json()) as Body;

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.key}`, ...headers },
    body,
  });
}

describe('gateway on the shared broker', () => {
  const topic = uniqueName('gw_events');
  let gw: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    await createTopic(topic, 3);
    gw = await startGateway(testEndpoints().brokers, topic);
  });
  afterAll(() => gw?.close());

  it('202 only after the events are on the topic, keyed by task id, redacted', async () => {
    const token = `xoxb-${'1234567890'}-${'abcdefghij1234'}`;
    const events = [
      // A hash that does not match the content: stored as sent, with the gateway's verdict.
      event({ task_id: 'task-a', hash: 'f'.repeat(64) }),
      event({
        task_id: 'task-b',
        data: { tool: 'slack.post', operation: 'write', outcome: 'ok', arguments: { token } },
      }),
    ];
    const res = await post(gw.url, JSON.stringify(events));
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ accepted: 2 });

    const consumer = kafkaClient().consumer({ groupId: uniqueName('gw_check') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = new Map<
      string,
      { key: string; value: Record<string, unknown>; headers: Record<string, string> }
    >();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.size} of 2 messages arrived`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const value = JSON.parse(message.value!.toString()) as Record<string, unknown>;
            got.set(value.event_id as string, {
              key: message.key!.toString(),
              value,
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? '']),
              ),
            });
            if (events.every((e) => got.has(e.event_id))) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    const a = got.get(events[0]!.event_id)!;
    const b = got.get(events[1]!.event_id)!;
    expect(a.key).toBe('task-a');
    expect(b.key).toBe('task-b');
    // One header: the schema mark, with the hash verdict when the event carries a hash.
    expect(a.headers).toEqual({ 'x-agenttrail-validated': 'v1;hash=mismatch' });
    expect(b.headers).toEqual({ 'x-agenttrail-validated': 'v1' });
    expect(typeof a.value.received_at).toBe('string');
    expect(JSON.stringify(b.value)).not.toContain(token);
    expect(b.value.data).toMatchObject({ arguments: { token: '[REDACTED:slack_token]' } });
    expect(b.value.secrets).toEqual([
      expect.objectContaining({ kind: 'slack_token', path: 'data.arguments.token' }),
    ]);
  });

  it('401 without a key and with a wrong key', async () => {
    const missing = await fetch(`${gw.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event()),
    });
    expect(missing.status).toBe(401);
    expect((await json(missing)).code).toBe('AT_ERR_AUTH_MISSING');
    const wrong = await post(gw.url, JSON.stringify(event()), {
      authorization: `Bearer ${mintKey('acme').key}`,
    });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).code).toBe('AT_ERR_AUTH_INVALID');
  });

  it("403 for another tenant's events", async () => {
    const res = await post(gw.url, JSON.stringify([event(), event({ tenant: 'globex' })]));
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: 'AT_ERR_AUTH_FORBIDDEN', results: [{ index: 1 }] });
  });

  it('413 for an oversized body', async () => {
    const res = await post(gw.url, JSON.stringify({ pad: 'x'.repeat(300 * 1024) }));
    expect(res.status).toBe(413);
    expect((await json(res)).code).toBe('AT_ERR_BODY_TOO_LARGE');
  });

  it('400 for malformed JSON, naming the problem', async () => {
    const res = await post(gw.url, '{"event_id": "a", "seq": }');
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe('AT_ERR_BODY_MALFORMED');
    expect(body.message).toMatch(/^invalid JSON: Unexpected token/);
    const nd = await post(gw.url, `${JSON.stringify(event())}\nnot json\n`, {
      'content-type': 'application/x-ndjson',
    });
    expect(nd.status).toBe(400);
    expect((await json(nd)).message).toMatch(/^invalid NDJSON at line 2: /);
  });

  it('422 with per-index field errors', async () => {
    const res = await post(
      gw.url,
      JSON.stringify([event(), event({ data: { tool: 'x', operation: 'steal', outcome: 'ok' } })]),
    );
    expect(res.status).toBe(422);
    expect((await json(res)).results?.[1]).toMatchObject({
      index: 1,
      status: 'rejected',
      errors: [{ path: 'data.operation' }],
    });
  });
});

// Issue 10 item 2: 200 events of one task with 6 KB arguments (1.27 MB, under the body limit)
// were one send over the broker's 1 MiB partition batch: 503 for ever, and /readyz stuck at 503.
describe('a large batch under the body limit', () => {
  const topic = uniqueName('gw_large');
  let gw: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    await createTopic(topic, 4);
    gw = await startGateway(testEndpoints().brokers, topic, {
      ...CONFIG,
      GATEWAY_MAX_BODY_BYTES: 5 * 1024 * 1024,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is split into sends Kafka takes: 202, every event on the topic, /readyz stays 200', async () => {
    const blob = 'x'.repeat(6_000);
    const events = Array.from({ length: 200 }, (_, i) =>
      event({
        task_id: 'task-large',
        data: { tool: 'fs.write', operation: 'write', outcome: 'ok', arguments: { i, blob } },
      }),
    );
    const body = JSON.stringify(events);
    expect(body.length).toBeGreaterThan(1_200_000);
    const res = await post(gw.url, body);
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ accepted: 200 });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

    const admin = kafkaClient().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(200);
  });
});

describe('gateway when Kafka stops (private broker)', () => {
  let broker: Awaited<ReturnType<typeof privateKafka>>;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const topic = uniqueName('gw_outage');

  beforeAll(async () => {
    broker = await privateKafka();
    await createTopic(topic, 1, broker.brokers);
    gw = await startGateway(broker.brokers, topic);
  });
  afterAll(async () => {
    await gw?.close();
    await broker?.cleanup();
  });

  it('answers 503 with Retry-After and never 2xx while the broker is down', async () => {
    expect((await post(gw.url, JSON.stringify(event()))).status).toBe(202);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);

    await broker.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await post(gw.url, JSON.stringify([event(), event()]));
      statuses.push(res.status);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(await json(res)).toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
      // Bounded by the produce timeout, not kafkajs' own retry schedule.
      expect(Date.now() - started).toBeLessThan(CONFIG.GATEWAY_PRODUCE_TIMEOUT_MS + 2000);
    }
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(false);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
  });
});
