import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChainEvent, verifyChain } from '../../schemas/index.js';
import { createAgentTrail } from '../../sdk/index.js';
import type { WireEvent } from '../../sdk/seal.js';
import { buildApp } from './app.js';
import { KeyStore, mintKey } from './keys.js';
import { FakeSink, TEST_APP_CONFIG } from './testing.js';

// The gateway app with a fake sink: every HTTP behaviour except the Kafka write itself, which
// test/gateway.int.test.ts covers against a real broker.

const CONFIG = TEST_APP_CONFIG;

const acme = mintKey('acme');
const globex = mintKey('globex');
const limited = mintKey('acme', 'rate-limit test');
const keys = new KeyStore([acme.record, globex.record, limited.record]);

let n = 0;
function event(over: Record<string, unknown> = {}) {
  n++;
  return {
    event_id: `evt-${n}`,
    schema_version: 1,
    type: 'action',
    occurred_at: '2026-03-01T12:00:00.000Z',
    tenant: 'acme',
    agent: { id: 'bot' },
    task_id: 'task-1',
    seq: n,
    data: { tool: 'http.get', operation: 'read', outcome: 'ok' },
    ...over,
  };
}

const sink = new FakeSink();
const app = await buildApp({ config: CONFIG, keys, sink });
const auth = (key = acme.key) => ({ authorization: `Bearer ${key}` });
const post = (payload: unknown, headers: Record<string, string> = auth(), contentType = 'application/json') =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { 'content-type': contentType, ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

beforeAll(() => app.ready());
afterAll(() => app.close());

describe('authentication', () => {
  it('401 without a key, with a Bearer challenge', async () => {
    const r = await post([event()], {});
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ code: 'AT_ERR_AUTH_MISSING' });
    expect(r.headers['www-authenticate']).toBe('Bearer realm="agenttrail"');
  });
  it.each([
    ['unknown key', mintKey('acme').key],
    ['malformed key', 'hello'],
    ['right id, wrong secret', `${acme.key.slice(0, -4)}AAAA`],
  ])('401 with %s', async (_d, key) => {
    const r = await post([event()], auth(key));
    expect(r.statusCode).toBe(401);
    expect(r.json().code).toBe('AT_ERR_AUTH_INVALID');
  });
  it('accepts X-API-Key and HTTP Basic (key as password)', async () => {
    expect((await post(event(), { 'x-api-key': acme.key })).statusCode).toBe(202);
    const basic = Buffer.from(`any:${acme.key}`).toString('base64');
    expect((await post(event(), { authorization: `Basic ${basic}` })).statusCode).toBe(202);
  });
  it('403 when any event names another tenant; nothing produced', async () => {
    const before = sink.produced.length;
    const r = await post([event(), event({ tenant: 'globex' })]);
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({
      code: 'AT_ERR_AUTH_FORBIDDEN',
      results: [{ index: 1, status: 'forbidden' }],
    });
    expect(sink.produced.length).toBe(before);
    expect((await post([event({ tenant: 'globex' })], auth(globex.key))).statusCode).toBe(202);
  });
});

describe('bodies', () => {
  it('202 for one event, an array, and NDJSON; key = task_id; received_at set', async () => {
    sink.produced = [];
    expect((await post(event({ task_id: 'single' }))).statusCode).toBe(202);
    const arr = await post([event({ task_id: 'a1' }), event({ task_id: 'a2' })]);
    expect(arr.statusCode).toBe(202);
    expect(arr.json()).toMatchObject({
      accepted: 2,
      results: [
        { index: 0, status: 'accepted' },
        { index: 1, status: 'accepted' },
      ],
    });
    const nd = `${JSON.stringify(event({ task_id: 'n1' }))}\n\n${JSON.stringify(event({ task_id: 'n2' }))}\n`;
    expect((await post(nd, auth(), 'application/x-ndjson')).statusCode).toBe(202);
    expect(sink.produced.map((m) => m.key)).toEqual(['single', 'a1', 'a2', 'n1', 'n2']);
    const stored = JSON.parse(sink.produced[0]!.value);
    expect(Date.parse(stored.received_at)).toBeGreaterThan(Date.now() - 10_000);
    expect(stored.data.data_classes).toEqual([]); // defaults applied
  });

  it('400 naming the JSON problem', async () => {
    const r = await post('[{"event_id": "x",}]');
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('AT_ERR_BODY_MALFORMED');
    expect(r.json().message).toMatch(/^invalid JSON: .*position/);
  });
  it('400 naming the NDJSON line', async () => {
    const nd = `${JSON.stringify(event())}\n${JSON.stringify(event())}\n{"broken": \n`;
    const r = await post(nd, auth(), 'application/x-ndjson');
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toMatch(/^invalid NDJSON at line 3: /);
  });
  it('400 for an empty body or an empty array', async () => {
    expect((await post('')).statusCode).toBe(400);
    expect((await post([])).json()).toMatchObject({
      code: 'AT_ERR_BODY_MALFORMED',
      message: 'the array holds no events',
    });
  });
  it('413 above the byte limit', async () => {
    const big = [event({ data: { tool: 'x', operation: 'read', outcome: 'ok', error: 'e'.repeat(500) } })];
    const r = await post(JSON.stringify(Array(200).fill(big[0])));
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('AT_ERR_BODY_TOO_LARGE');
  });
  it('413 above the event-count limit', async () => {
    const r = await post(Array.from({ length: 51 }, () => event()));
    expect(r.statusCode).toBe(413);
    expect(r.json().message).toBe('51 events in one request; the limit is 50');
  });
  it('415 for other content types', async () => {
    const r = await post('x', auth(), 'text/plain');
    expect(r.statusCode).toBe(415);
  });
});

describe('validation (all-or-nothing)', () => {
  it('422 with errors per event index and field path; nothing produced', async () => {
    const before = sink.produced.length;
    const r = await post([
      event(),
      event({ seq: 0 }),
      event({ type: 'file.read' }),
      event({ schema_version: 2 }),
    ]);
    expect(r.statusCode).toBe(422);
    const body = r.json();
    expect(body.code).toBe('AT_ERR_EVENT_INVALID');
    expect(body.message).toMatch(/3 of 4 event\(s\) are invalid; nothing was accepted/);
    expect(body.results[0]).toMatchObject({ index: 0, status: 'valid' });
    expect(body.results[1]).toMatchObject({ index: 1, status: 'rejected', errors: [{ path: 'seq' }] });
    expect(body.results[2].errors[0]).toMatchObject({
      path: 'type',
      message: expect.stringMatching(/unknown event type 'file.read'/),
    });
    expect(body.results[3].errors[0].path).toBe('schema_version');
    expect(sink.produced.length).toBe(before);
  });
});

describe('redaction before produce', () => {
  it('stores no secret, records kind/path/fingerprint, and the SDK chain still verifies', async () => {
    const batches: WireEvent[][] = [];
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: { id: 'bot' },
      transport: {
        async send(events) {
          batches.push([...events]);
          return { kind: 'accepted' };
        },
      },
    });
    const token = `ghp_${'Ab1'.repeat(12)}`;
    const task = await trail.declareTask({
      intent: 'read a repo',
      scope: {},
      declared_by: { kind: 'human', id: 'alice' },
    });
    await task.action({
      tool: 'shell',
      operation: 'execute',
      outcome: 'ok',
      arguments: { env: { GH_TOKEN: token }, cmd: 'curl -H "Authorization: Bearer abcdef123456789"' },
      output: { excerpt: `token is ${token}; mail ops@corp.io` },
    });
    await trail.close();
    sink.produced = [];
    const r = await post(batches.flat());
    expect(r.statusCode).toBe(202);
    expect(r.json().results[1].secrets_redacted).toBeGreaterThanOrEqual(3);
    const stored = sink.produced.map(
      (m) => JSON.parse(m.value) as ChainEvent & { secrets?: unknown[]; entities?: unknown[] },
    );
    expect(sink.produced.map((m) => m.value).join('')).not.toContain(token);
    expect(sink.produced.map((m) => m.value).join('')).not.toContain('abcdef123456789');
    expect(stored[1]!.secrets).toContainEqual(
      expect.objectContaining({ kind: 'github_token', path: 'data.arguments.env.GH_TOKEN' }),
    );
    expect(stored[1]!.entities).toContainEqual(
      expect.objectContaining({ kind: 'email', path: 'data.output.excerpt' }),
    );
    expect(verifyChain(stored)).toEqual({ ok: true, problems: [] });
    // The gateway checked each hash itself (the detector trusts this verdict).
    expect(sink.produced.map((m) => m.hash)).toEqual(['ok', 'ok']);

    // Content altered after sealing: stored as sent, marked as a mismatch.
    const [declared, action] = batches.flat() as [WireEvent, WireEvent & { data: { tool: string } }];
    sink.produced = [];
    const altered = { ...action, event_id: 'evt-altered', data: { ...action.data, tool: 'shell.other' } };
    expect((await post([declared, altered])).statusCode).toBe(202);
    expect(sink.produced.map((m) => m.hash)).toEqual(['ok', 'mismatch']);
    // No hash, no verdict.
    sink.produced = [];
    expect((await post(event())).statusCode).toBe(202);
    expect(sink.produced[0]!.hash).toBeUndefined();
  });

  it('replaces collector-supplied secrets/entities', async () => {
    sink.produced = [];
    const fake = [{ kind: 'jwt', path: 'data', fp: 'a'.repeat(32) }];
    expect((await post(event({ secrets: fake, entities: fake }))).statusCode).toBe(202);
    const stored = JSON.parse(sink.produced[0]!.value);
    expect(stored.secrets).toBeUndefined();
    expect(stored.entities).toBeUndefined();
  });
});

describe('Kafka unavailable, rate limit, errors', () => {
  it('503 with Retry-After and no 2xx when the sink fails', async () => {
    sink.fail = true;
    try {
      const r = await post([event()]);
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('7');
      expect(r.json()).toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE', retry_after_s: 7 });
      expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    } finally {
      sink.fail = false;
    }
  });

  it('429 with Retry-After once a key exceeds its bucket (events, not requests)', async () => {
    const batch = Array.from({ length: 50 }, () => event());
    expect((await post(batch, auth(limited.key))).statusCode).toBe(202);
    expect((await post(batch, auth(limited.key))).statusCode).toBe(202);
    const r = await post(batch, auth(limited.key));
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await post([event()])).statusCode).toBe(202); // other keys unaffected
  });

  it('500 hides internal errors', async () => {
    const broken = await buildApp({
      config: CONFIG,
      keys,
      sink: {
        produce: async () => {
          throw new Error('secret internal detail');
        },
        ready: () => true,
      },
    });
    const r = await broken.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify(event()),
    });
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toContain('secret internal detail');
    expect(r.json().code).toBe('AT_ERR_INTERNAL');
    await broken.close();
  });
});

describe('health, metrics, docs', () => {
  it('/healthz and /readyz need no key', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
  it('/metrics needs a key and reports received/accepted/dropped by reason', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const r = await app.inject({ url: '/metrics', headers: auth() });
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/agenttrail_received_total\{stage="gateway",service="gateway"\} \d+/);
    expect(r.body).toMatch(/agenttrail_dropped_total\{stage="gateway",reason="AT_ERR_EVENT_INVALID"/);
    expect(r.body).toContain('agenttrail_gateway_produce_duration_seconds_bucket');
    expect(r.body).toMatch(/agenttrail_batch_duration_seconds_count\{[^}]*stage="gateway"[^}]*\} [1-9]/);
  });
  it('/metrics takes only the metrics token when one is configured', async () => {
    const token = 'metrics-token-0123456789';
    const withToken = await buildApp({ config: { ...CONFIG, GATEWAY_METRICS_TOKEN: token }, keys, sink });
    expect((await withToken.inject({ url: '/metrics', headers: auth() })).statusCode).toBe(401);
    expect(
      (await withToken.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    await withToken.close();
  });
  it('/openapi.json and /docs are served behind the key; /docs challenges with Basic', async () => {
    const doc = await app.inject({ url: '/openapi.json', headers: auth() });
    expect(doc.json()).toMatchObject({
      openapi: '3.1.0',
      paths: { '/v1/events': { post: { responses: { '422': {} } } } },
    });
    const unauth = await app.inject({ url: '/docs' });
    expect(unauth.statusCode).toBe(401);
    expect(unauth.headers['www-authenticate']).toBe('Basic realm="agenttrail"');
    const html = await app.inject({ url: '/docs', headers: auth() });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('POST /v1/events');
  });
});

// Issue 10 item 4: each of these answered 5xx, a fastify code, or 2xx with altered data before.
describe('bad input never reaches a 5xx or a fastify code', () => {
  it('an empty body without a Content-Type is a 400, not a 500', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/events', headers: auth() });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'AT_ERR_BODY_MALFORMED', message: /^the body is empty/ });
  });
  it('JSON nested 5,000 levels is a 422 naming the field, not a stack overflow', async () => {
    const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const body = JSON.stringify(event()).replace(
      '"outcome":"ok"',
      `"outcome":"ok","arguments":{"q":${deep}}`,
    );
    const r = await post(`[${body}]`);
    expect(r.statusCode).toBe(422);
    expect(r.json().results[0].errors[0]).toMatchObject({
      path: expect.stringMatching(/^data\.arguments\.q/),
      message: 'is nested more than 64 levels deep; flatten it',
    });
  });
  it('a lone surrogate in a string is a 422 naming the field; nothing produced', async () => {
    const before = sink.produced.length;
    const body = JSON.stringify([event()]).replace(
      '"tool":"http.get"',
      '"tool":"http.get","resource":"erp:invoices/\\ud800"',
    );
    const r = await post(body);
    expect(r.statusCode).toBe(422);
    expect(r.json().results[0].errors[0]).toMatchObject({
      path: 'data.resource',
      message: expect.stringMatching(/lone UTF-16 surrogate/),
    });
    expect(sink.produced.length).toBe(before);
  });
  it('bytes that are not UTF-8 are a 400, not stored as U+FFFD', async () => {
    const before = sink.produced.length;
    const json = Buffer.from(
      JSON.stringify([
        event({ data: { tool: 'http.get', operation: 'read', outcome: 'ok', resource: 'XX' } }),
      ]),
    );
    const at = json.indexOf('XX');
    json[at] = 0xff;
    json[at + 1] = 0xfe;
    const r = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json', ...auth() },
      payload: json,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({
      code: 'AT_ERR_BODY_MALFORMED',
      message: `the body is not valid UTF-8 (near byte ${at})`,
    });
    expect(sink.produced.length).toBe(before);
  });
  it('an unsafe X-Request-Id is replaced, never echoed; a safe one is kept', async () => {
    sink.crash = true;
    try {
      const evil = '"><script>alert(1)</script>';
      const r = await post([event()], { ...auth(), 'x-request-id': evil });
      expect(r.statusCode).toBe(500);
      expect(r.body).not.toContain('<script>');
      expect(r.json().message).toMatch(/^internal error \(request [0-9a-f-]{36}\)$/);
      const safe = await post([event()], { ...auth(), 'x-request-id': 'req-42.a:b' });
      expect(safe.json().message).toBe('internal error (request req-42.a:b)');
      expect(safe.headers['x-request-id']).toBe('req-42.a:b');
    } finally {
      sink.crash = false;
    }
  });
  it('415 carries a catalogue code, not FST_ERR_CTP_INVALID_MEDIA_TYPE', async () => {
    const r = await post('x', auth(), 'text/plain');
    expect(r.json()).toMatchObject({ code: 'AT_ERR_UNSUPPORTED_MEDIA_TYPE', message: /application\/json/ });
  });
  it.each([
    ['GET', '/v1/events', 'POST'],
    ['DELETE', '/healthz', 'GET, HEAD'],
    ['PUT', '/metrics', 'GET, HEAD'],
  ])('%s %s is a 405 with Allow: %s', async (method, url, allow) => {
    const r = await app.inject({ method: method as 'GET', url, headers: auth() });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe(allow);
    expect(r.json().code).toBe('AT_ERR_METHOD_NOT_ALLOWED');
  });
  it('an unknown path is a 404 with AT_ERR_NOT_FOUND', async () => {
    const r = await app.inject({ url: '/nope', headers: auth() });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('AT_ERR_NOT_FOUND');
  });
  it('headers over the limit get a 431 with a catalogue code (a real socket: Node parses them)', async () => {
    const server = await buildApp({ config: CONFIG, keys, sink });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as { port: number };
    const raw = await new Promise<string>((resolve, reject) => {
      let text = '';
      const sock = connect(port, '127.0.0.1', () =>
        sock.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`),
      );
      sock.on('data', (d) => (text += d.toString()));
      sock.on('close', () => resolve(text));
      sock.on('error', reject);
    });
    await server.close();
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(raw).toContain('"code":"AT_ERR_HEADERS_TOO_LARGE"');
  });
});
