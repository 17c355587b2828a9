import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../../schemas/index.js';
import { compileMapping, MappingFile } from '../../platform/tool-mapping.js';
import { decodeTraceJson, traceResponseJson } from './json.js';
import { OtlpDecodeError } from './model.js';
import { decodeTraceRequest, encodeTraceResponse } from './protobuf.js';
import { spansToEvents } from './spans-to-events.js';
import { TaskSeqs } from './task-seqs.js';
import { memoryProvider, recordAgentRun } from './testing.js';

// The receiver's decoders are held to the OpenTelemetry JS SDK's own serializers: spans made by the
// real SDK, encoded by its protobuf and JSON serializers, must decode to the same model.

function run(opts: Parameters<typeof recordAgentRun>[1] = {}) {
  const { provider, spans } = memoryProvider();
  recordAgentRun(provider, opts);
  const finished = spans();
  return {
    finished,
    protobuf: ProtobufTraceSerializer.serializeRequest(finished)!,
    json: JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(finished)!)),
  };
}

/** The fields these tests read of a converted event. */
interface Ev {
  type: string;
  seq: number;
  task_id: string;
  trace_id: string;
  span_id: string;
  event_id: string;
  agent: unknown;
  data: Record<string, unknown> & { adjusted: Array<{ path: string }> };
}

const mapper = compileMapping(MappingFile.parse({ version: 1 }));
const convert = (spans: ReturnType<typeof decodeTraceRequest>, seqs = new TaskSeqs()) =>
  spansToEvents(spans, { tenant: 'acme', seqs, mapper });

describe('OTLP decoding', () => {
  it('reads the SDK protobuf encoding into the same spans as its JSON encoding', () => {
    const r = run({
      toolCalls: [
        { tool: 'files.read', args: { path: '/q3.pdf', pages: [1, 2] }, result: 'Revenue up 4%' },
        {
          tool: 'files.write',
          args: { path: '/out.md' },
          error: 'disk full',
          attrs: { 'agenttrail.seq': 9 },
        },
      ],
    });
    const fromProto = decodeTraceRequest(r.protobuf);
    const fromJson = decodeTraceJson(r.json);
    expect(fromProto).toEqual(fromJson);
    expect(fromProto).toHaveLength(4); // invoke_agent, chat, two tools
    const write = fromProto.find((s) => s.attributes['gen_ai.tool.name'] === 'files.write')!;
    const sdkWrite = r.finished.find((s) => s.attributes['gen_ai.tool.name'] === 'files.write')!;
    expect(write.traceId).toBe(sdkWrite.spanContext().traceId);
    expect(write.spanId).toBe(sdkWrite.spanContext().spanId);
    expect(write.parentSpanId).toBe(sdkWrite.parentSpanContext?.spanId);
    expect(write.status).toEqual({ code: 2, message: 'disk full' });
    expect(write.attributes['agenttrail.seq']).toBe(9);
    expect(write.resource['service.name']).toBe('support-bot-svc');
    const [s, ns] = sdkWrite.startTime;
    expect(write.startNs).toBe(BigInt(s) * 1_000_000_000n + BigInt(ns));
  });

  it('reads every AnyValue kind, and int64 beyond 2^53 exactly', () => {
    const { provider, spans } = memoryProvider();
    const span = provider.getTracer('t').startSpan('x', {
      attributes: { s: 'é', b: true, i: -42, d: 1.5, arr: ['a', 'b'], nums: [1, 2] },
    });
    span.end();
    const [decoded] = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans())!);
    expect(decoded!.attributes).toMatchObject({
      s: 'é',
      b: true,
      i: -42,
      d: 1.5,
      arr: ['a', 'b'],
      nums: [1, 2],
    });
    const big = decodeTraceJson({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'ab'.repeat(16),
                  spanId: 'cd'.repeat(8),
                  startTimeUnixNano: '1767225600123456789',
                  attributes: [
                    { key: 'big', value: { intValue: '9223372036854775807' } },
                    {
                      key: 'kv',
                      value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } },
                    },
                    { key: 'raw', value: { bytesValue: Buffer.from([1, 255]).toString('base64') } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(big[0]!.attributes).toEqual({ big: '9223372036854775807', kv: { k: 'v' }, raw: '01ff' });
    expect(big[0]!.startNs).toBe(1767225600123456789n);
  });

  it('refuses a truncated or malformed body with what is wrong', () => {
    const bytes = run().protobuf;
    expect(() => decodeTraceRequest(bytes.subarray(0, bytes.length - 3))).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/runs past its message/);
    expect(() =>
      decodeTraceJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'not hex!' }] }] }] }),
    ).toThrow(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: must be hex/);
    expect(() => decodeTraceJson({ resourceSpans: {} })).toThrow(/resourceSpans: must be an array/);
  });

  it('writes responses the SDK reads back', () => {
    expect(encodeTraceResponse(0, '')).toHaveLength(0);
    const back = ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse(3, 'no_agent 3 é'));
    expect(back.partialSuccess?.errorMessage).toBe('no_agent 3 é');
    expect(Number(back.partialSuccess?.rejectedSpans)).toBe(3);
    const json = JsonTraceSerializer.deserializeResponse(
      new TextEncoder().encode(JSON.stringify(traceResponseJson(300, 'x'))),
    );
    expect(json.partialSuccess).toEqual({ rejectedSpans: '300', errorMessage: 'x' });
  });
});

describe('spans to events', () => {
  it('makes a declaration, actions in start order and an end, all valid events', () => {
    const r = run({
      taskId: 'task-otel-1',
      toolCalls: [
        { tool: 'files.read', args: { path: '/q3.pdf' }, result: 'Revenue up' },
        { tool: 'files.write', args: { path: '/out.md' }, error: 'disk full' },
      ],
    });
    const out = convert(decodeTraceRequest(r.protobuf));
    expect(out.rejected).toEqual([]);
    expect(out.ignored).toBe(1); // the chat span
    expect(out.events.map((e) => [e.type, e.seq])).toEqual([
      ['task.declared', 1],
      ['action', 2],
      ['action', 3],
      ['task.ended', 4],
    ]);
    for (const e of out.events) expect(validateEvent(e)).toMatchObject({ ok: true });
    const [declared, read, write] = out.events as unknown as Ev[];
    expect(declared!.data).toMatchObject({
      intent: 'Summarise the quarterly report',
      declared_by: { kind: 'human', id: 'alice' },
    });
    expect(read!.task_id).toBe('task-otel-1');
    expect(read!.agent).toEqual({ id: 'support-bot', instance: 'pod-7' });
    expect(read!.data).toMatchObject({
      tool: 'files.read',
      operation: 'execute',
      outcome: 'ok',
      arguments: { path: '/q3.pdf' },
      output: { excerpt: 'Revenue up' },
    });
    expect(write!.data).toMatchObject({ outcome: 'error', error: 'disk full' });
    expect(read!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(read!.event_id).toBe(`otel:${read!.trace_id}:${read!.span_id}`);
  });

  it('gives a resent span the seq it had, and a new span of the task the next', () => {
    const seqs = new TaskSeqs();
    const r = run({ taskId: 't1', declare: false });
    const first = convert(decodeTraceRequest(r.protobuf), seqs);
    const again = convert(decodeTraceRequest(r.protobuf), seqs);
    expect(again.events).toEqual(first.events);
    const later = convert(decodeTraceRequest(run({ taskId: 't1', declare: false }).protobuf), seqs);
    expect(later.events.map((e) => e.seq)).toEqual([3]);
  });

  it('without agenttrail.task.id one trace is one task; the mapping file names operation and resource', () => {
    const mapped = compileMapping(
      MappingFile.parse({
        version: 1,
        tools: [{ match: 'files.read', operation: 'read', resource: 'file://{path}' }],
      }),
    );
    const r = run({ declare: false });
    const out = spansToEvents(decodeTraceRequest(r.protobuf), {
      tenant: 'acme',
      seqs: new TaskSeqs(),
      mapper: mapped,
    });
    const [e] = out.events as unknown as Ev[];
    expect(e!.task_id).toBe(`otel:${e!.trace_id}`);
    expect(e!.data).toMatchObject({ operation: 'read', resource: 'file:///reports/q3.pdf' });
  });

  it('extracts every target the mapping names from the arguments', () => {
    const mapped = compileMapping(
      MappingFile.parse({
        version: 1,
        tools: [{ match: 'mail.send', operation: 'transfer', targets: [{ kind: 'recipient', from: 'to' }] }],
      }),
    );
    const r = run({
      declare: false,
      toolCalls: [{ tool: 'mail.send', args: { to: 'a@acme.example, x@evil.example' } }],
    });
    const out = spansToEvents(decodeTraceRequest(r.protobuf), {
      tenant: 'acme',
      seqs: new TaskSeqs(),
      mapper: mapped,
    });
    const [e] = out.events as unknown as Ev[];
    expect(validateEvent(e)).toMatchObject({ ok: true });
    expect(e!.data.targets).toEqual([
      { kind: 'recipient', value: 'a@acme.example', role: 'to' },
      { kind: 'recipient', value: 'x@evil.example', role: 'to' },
    ]);
  });

  it('rejects, with a reason each, the spans that cannot become events', () => {
    const r = run({
      declare: false,
      toolCalls: [
        { args: {} }, // no gen_ai.tool.name
        { tool: 'files.read', attrs: { 'agenttrail.targets': '[not json' } },
        { tool: 'files.read' },
      ],
    });
    const out = convert(decodeTraceRequest(r.protobuf));
    expect(out.rejected.map((x) => x.reason).sort()).toEqual(['bad_attribute', 'no_tool_name']);
    expect(out.events).toHaveLength(1);
    const noAgent = decodeTraceRequest(r.protobuf).map((s) => ({
      ...s,
      attributes: { ...s.attributes, 'gen_ai.agent.id': null },
      resource: {},
    }));
    expect(new Set(convert(noAgent).rejected.map((x) => x.reason))).toEqual(
      new Set(['no_agent', 'no_tool_name']),
    );
    // No task id and no trace id: refused, not filed under one shared task "otel:".
    const noTrace = decodeTraceRequest(r.protobuf).map((s) => ({ ...s, traceId: '' }));
    expect(new Set(convert(noTrace).rejected.map((x) => x.reason))).toEqual(
      new Set(['no_task', 'no_tool_name']),
    );
  });

  it('cuts oversized arguments and results as the SDK does, and says so in data.adjusted', () => {
    const r = run({
      declare: false,
      toolCalls: [{ tool: 'files.read', args: { blob: 'x'.repeat(40_000) }, result: 'y'.repeat(10_000) }],
    });
    const [e] = convert(decodeTraceRequest(r.protobuf)).events as unknown as Ev[];
    expect(validateEvent(e)).toMatchObject({ ok: true });
    expect(e!.data.arguments).toEqual({ truncated: true, bytes: expect.any(Number) });
    expect(e!.data.adjusted.map((a) => a.path).sort()).toEqual(['data.arguments', 'data.output.excerpt']);
  });
});

describe('TaskSeqs', () => {
  it('forgets the least recently used task beyond its bound', () => {
    const seqs = new TaskSeqs({ maxTasks: 2, maxRemembered: 4 });
    expect(seqs.seqFor('a', 't1', 'e1')).toBe(2);
    seqs.seqFor('a', 't2', 'e1');
    seqs.seqFor('a', 't1', 'e2'); // t1 used: t2 is now the oldest
    seqs.seqFor('a', 't3', 'e1');
    expect(seqs.size).toBe(2);
    expect(seqs.seqFor('a', 't1', 'e3')).toBe(4);
    expect(seqs.seqFor('a', 't2', 'e9')).toBe(2); // forgotten: numbered afresh
  });
});
