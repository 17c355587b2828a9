import { spawnSync } from 'node:child_process';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, storedAlerts } from '../cli/pipeline/observe.js';
import { pythonCommand } from '../stack/paths.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { readmePythonBlock } from './helpers/readme.js';
import { clickhouseClient } from './helpers/stack.js';

// OpenTelemetry GenAI spans end to end: the OpenTelemetry JS SDK, with its real OTLP/HTTP
// exporters (protobuf, and JSON with gzip), exports an agent's run to the gateway's /v1/traces;
// the events go through Kafka to ClickHouse and the detector, and the task's timeline on the
// query API shows every tool call with its tool, arguments and outcome, and where it left scope.
// And README's Python example, run as written with the OpenTelemetry Python SDK
// (examples/otel/requirements.txt, installed by .ci/run into AGENTTRAIL_PYTHON's virtualenv).

const TENANT = 'otel';
const SECRET = 'whsec_otlp_int_test';
let e2e: E2E;
const ch = clickhouseClient();

const SCOPE = { allow: [{ tools: ['files.read'], operations: ['read' as const] }] };

interface TimelineEvent {
  seq: number;
  type: string;
  event: { data: Record<string, unknown>; trace_id?: string };
  mark?: { in_scope: boolean; rules: string[] };
}

async function runAgent(exporter: SpanExporter, taskId: string): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'report-agent' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('report-agent', '1.0.0');
  const root = tracer.startSpan('invoke_agent report-agent', {
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'report-agent',
      'agenttrail.task.id': taskId,
      'agenttrail.task.intent': 'Summarise the Q3 report',
      'agenttrail.task.scope': JSON.stringify(SCOPE),
      'agenttrail.task.declared_by': 'human:alice',
    },
  });
  const ctx = trace.setSpan(context.active(), root);
  const tool = (name: string, operation: string, args: object, result?: string, error?: string) => {
    const span = tracer.startSpan(
      `execute_tool ${name}`,
      {
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.agent.id': 'report-agent',
          'gen_ai.tool.name': name,
          'gen_ai.tool.call.id': `call_${name}`,
          'gen_ai.tool.call.arguments': JSON.stringify(args),
          ...(result ? { 'gen_ai.tool.call.result': result } : {}),
          'agenttrail.task.id': taskId,
          'agenttrail.operation': operation,
        },
      },
      ctx,
    );
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end();
  };
  tool('files.read', 'read', { path: '/reports/q3.pdf' }, 'Revenue up 4%');
  tool('files.delete', 'delete', { path: '/reports/q3.pdf' }, undefined, 'permission denied');
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
}

async function timeline(taskId: string, events = 4) {
  const url = `${e2e.pipeline.queryApiUrl}/v1/tasks/${encodeURIComponent(taskId)}?tenant=${TENANT}`;
  const got = await pollUntil(
    async () => {
      e2e.pipeline.assertRunning();
      const r = await fetch(url, { headers: { authorization: `Bearer ${e2e.pipeline.queryApiKey}` } });
      return r.status === 200
        ? ((await r.json()) as { events: TimelineEvent[]; alerts: Array<{ rule_id: string }> })
        : undefined;
    },
    (t) => t !== undefined && t.events.length >= events && t.alerts.length > 0,
    30_000,
    200,
  );
  expect(got.met, JSON.stringify(got.value)).toBe(true);
  return got.value!;
}

beforeAll(async () => {
  e2e = await startE2E('otlp', { tenant: TENANT, secret: SECRET, prefix: 't_otlp' });
});

afterAll(async () => {
  if (e2e) expect(await e2e.stop()).toEqual({ gateway: 0, ingester: 0, detector: 0, alerter: 0 });
  await ch.close();
});

describe('OpenTelemetry SDK → OTLP/HTTP → gateway → Kafka → ClickHouse, detector, timeline', () => {
  it.each([
    [
      'protobuf',
      (url: string, key: string) =>
        new OtlpProtoExporter({ url, headers: { authorization: `Bearer ${key}` } }),
    ],
    [
      'JSON, gzip',
      (url: string, key: string) =>
        new OtlpHttpJsonExporter({
          url,
          headers: { authorization: `Bearer ${key}` },
          compression: 'gzip' as never,
        }),
    ],
  ])(
    '%s: every tool call is in the task timeline with tool, arguments and outcome',
    async (form, exporter) => {
      const taskId = `${e2e.run}.${form.replace(/\W+/g, '-')}`;
      await runAgent(exporter(`${e2e.pipeline.gatewayUrl}/v1/traces`, e2e.pipeline.apiKey), taskId);
      const t = await timeline(taskId);
      expect(
        t.events.map((e) => [e.seq, e.type, e.event.data.tool ?? '', e.event.data.outcome ?? '']),
      ).toEqual([
        [1, 'task.declared', '', ''],
        [2, 'action', 'files.read', 'ok'],
        [3, 'action', 'files.delete', 'error'],
        [4, 'task.ended', '', 'completed'],
      ]);
      const [, read, del] = t.events;
      expect(read!.event.data).toMatchObject({
        arguments: { path: '/reports/q3.pdf' },
        output: { excerpt: 'Revenue up 4%' },
      });
      expect(del!.event.data).toMatchObject({ operation: 'delete', error: 'permission denied' });
      expect(read!.event.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(read!.mark?.in_scope).toBe(true);
      expect(del!.mark?.in_scope).toBe(false);
      const alerts = await storedAlerts(ch, e2e.run, TENANT, [taskId]);
      expect(alerts.map((a) => a.rule_id)).toContain('AT-SCOPE-001');
    },
  );
});

describe('README: the OpenTelemetry Python SDK example', () => {
  it('runs as written and its task is in the timeline, the undeclared tool alerted on', async () => {
    const r = spawnSync(pythonCommand(), ['-'], {
      input: readmePythonBlock('## Collect: OpenTelemetry GenAI receiver'),
      encoding: 'utf8',
      env: { ...process.env, AGENTTRAIL_URL: e2e.pipeline.gatewayUrl, KEY: e2e.pipeline.apiKey },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('exported invoice-42');
    const t = await timeline('invoice-42', 5);
    expect(t.events.map((e) => [e.type, e.event.data.tool ?? '', e.mark?.in_scope ?? null])).toEqual([
      ['task.declared', '', null],
      ['action', 'tickets.read', true],
      ['action', 'payments.send', true],
      ['action', 'files.share', false],
      ['task.ended', '', null],
    ]);
    expect(t.events[2]!.event.data).toMatchObject({
      operation: 'transfer',
      arguments: { iban: 'DE89370400440532013000', amount_eur: 120 },
    });
    const alerts = await storedAlerts(ch, e2e.run, TENANT, ['invoice-42']);
    expect(alerts.map((a) => a.rule_id)).toContain('AT-SCOPE-001');
  });
});
