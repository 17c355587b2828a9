import { gzipSync } from 'node:zlib';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { KeyStore, mintKey } from '../keys.js';
import { memoryProvider, recordAgentRun } from '../otlp/testing.js';
import { FakeSink, TEST_APP_CONFIG } from '../testing.js';

// POST /v1/traces with a fake sink: decoding, auth, partial success, limits and the 503 rule.
// test/otlp.int.test.ts runs the real OTLP exporter against a gateway writing to real Kafka.

const acme = mintKey('acme');
const keys = new KeyStore([acme.record]);
const sink = new FakeSink();
const app = await buildApp({ config: TEST_APP_CONFIG, keys, sink });

function request(opts: Parameters<typeof recordAgentRun>[1] = {}) {
  const { provider, spans } = memoryProvider();
  recordAgentRun(provider, opts);
  return {
    protobuf: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans())!),
    json: Buffer.from(JsonTraceSerializer.serializeRequest(spans())!),
  };
}

const post = (payload: Buffer, type = 'application/x-protobuf', headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { authorization: `Bearer ${acme.key}`, 'content-type': type, ...headers },
    payload,
  });

beforeAll(() => app.ready());
afterAll(() => app.close());

describe('POST /v1/traces', () => {
  it('takes protobuf, answers an empty protobuf response, and produces the events', async () => {
    sink.produced = [];
    const r = await post(request({ taskId: 'otlp-task-1' }).protobuf);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/x-protobuf/);
    expect(r.rawPayload).toHaveLength(0);
    const stored = sink.produced.map((m) => JSON.parse(m.value));
    expect(stored.map((e) => e.type)).toEqual(['task.declared', 'action', 'task.ended']);
    expect(stored.every((e) => e.tenant === 'acme' && e.task_id === 'otlp-task-1')).toBe(true);
    expect(stored[1].received_at).toEqual(expect.any(String));
  });

  it('takes JSON and gzip alike', async () => {
    sink.produced = [];
    const { json } = request({ declare: false });
    expect((await post(json, 'application/json')).json()).toEqual({});
    expect((await post(gzipSync(json), 'application/json', { 'content-encoding': 'gzip' })).statusCode).toBe(
      200,
    );
    expect(sink.produced).toHaveLength(2);
    const [plain, gzipped] = sink.produced.map((m) => JSON.parse(m.value));
    expect({ ...gzipped, received_at: plain.received_at }).toEqual(plain);
  });

  it('reports spans it cannot take in partial_success, by reason, and takes the rest', async () => {
    sink.produced = [];
    const r = await post(
      request({
        declare: false,
        toolCalls: [
          { args: {} },
          { tool: 'files.read', attrs: { 'agenttrail.operation': 'steal' } },
          { tool: 'files.read' },
        ],
      }).json,
      'application/json',
    );
    expect(r.statusCode).toBe(200);
    const partial = r.json().partialSuccess;
    expect(partial.rejectedSpans).toBe('2');
    expect(partial.errorMessage).toMatch(
      /^2 span\(s\) rejected \((no_tool_name 1, invalid_event 1|invalid_event 1, no_tool_name 1)\)/,
    );
    expect(partial.errorMessage).toMatch(/data\.operation: /);
    expect(sink.produced).toHaveLength(1);
    const metrics = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${acme.key}` } });
    expect(metrics.body).toMatch(
      /agenttrail_otlp_spans_total\{result="rejected",reason="no_tool_name"[^}]*\} 1\n/,
    );
    expect(metrics.body).toMatch(
      /agenttrail_otlp_spans_total\{result="ignored",reason="not_agent_span"[^}]*\} \d+/,
    );
  });

  it('401 without a key, 415 for another type, 400 for a body that is not OTLP', async () => {
    const body = request().protobuf;
    const anon = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: body,
    });
    expect(anon.statusCode).toBe(401);
    expect((await post(body, 'text/plain')).statusCode).toBe(415);
    const bad = await post(Buffer.from([0x0a, 0x09, 0x01]));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^not an OTLP ExportTraceServiceRequest: /);
    const badGzip = await post(Buffer.from('not gzip'), 'application/x-protobuf', {
      'content-encoding': 'gzip',
    });
    expect(badGzip.json()).toMatchObject({ code: 'AT_ERR_BODY_MALFORMED' });
  });

  it('413 for a gzip body that inflates beyond the body limit', async () => {
    const bomb = gzipSync(Buffer.alloc(TEST_APP_CONFIG.GATEWAY_MAX_BODY_BYTES + 1));
    const r = await post(bomb, 'application/x-protobuf', { 'content-encoding': 'gzip' });
    expect(r.statusCode).toBe(413);
  });

  it('503 when Kafka does not acknowledge, and the same seqs when the exporter retries', async () => {
    const body = request({ taskId: 'otlp-retry' }).protobuf;
    sink.fail = true;
    const failed = await post(body);
    sink.fail = false;
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe(String(TEST_APP_CONFIG.GATEWAY_RETRY_AFTER_S));
    sink.produced = [];
    expect((await post(body)).statusCode).toBe(200);
    expect(sink.produced.map((m) => JSON.parse(m.value).seq)).toEqual([1, 2, 3]);
  });

  it('with GATEWAY_OTLP_PARTIAL_SUCCESS=false refuses the whole request (422) and produces nothing', async () => {
    const strictSink = new FakeSink();
    const strict = await buildApp({
      config: { ...TEST_APP_CONFIG, GATEWAY_OTLP_PARTIAL_SUCCESS: false },
      keys,
      sink: strictSink,
    });
    const body = request({ declare: false, toolCalls: [{ args: {} }, { tool: 'files.read' }] }).protobuf;
    const r = await strict.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { authorization: `Bearer ${acme.key}`, 'content-type': 'application/x-protobuf' },
      payload: body,
    });
    await strict.close();
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({ code: 'AT_ERR_EVENT_INVALID', results: [{ reason: 'no_tool_name' }] });
    expect(strictSink.produced).toEqual([]);
  });
});
