// OTLP receiver benchmark: OTLP/HTTP protobuf trace exports → gateway /v1/traces → Kafka (acks=all),
// beside its peer in the same run: the same actions, as the receiver builds them, sent as JSON
// to /v1/events of the same gateway.
//
//   npx tsx bench/otlp.bench.ts   (or `npm run bench -- otlp`)
//
// The export bodies are made by the OpenTelemetry JS SDK (spans of an agent's tool calls with
// arguments and results, encoded by its own protobuf serializer), BENCH_SPANS per request (512:
// the SDK's BatchSpanProcessor default). Rounds alternate traces / events so both see the same
// machine. Progress goes to stderr; the LAST stdout line is JSON: `otlp_spans_per_s`,
// `otlp_cpu_us_per_span` (gateway CPU per span), `events_cpu_us_per_event` (the peer) and
// `ratio_vs_events_route`.
//
// Knobs (env): BENCH_SECONDS (8 per round), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (2),
// BENCH_SPANS (512), BENCH_CONCURRENCY (8), BENCH_PARTITIONS (6), BENCH_PROFILE_DIR (unset).

import { cpus } from 'node:os';
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTraceRequest } from '../services/gateway/otlp/protobuf.js';
import { spansToEvents } from '../services/gateway/otlp/spans-to-events.js';
import { TaskSeqs } from '../services/gateway/otlp/task-seqs.js';
import { memoryProvider } from '../services/gateway/otlp/testing.js';
import { compileMapping, EMPTY_MAPPING } from '../services/platform/tool-mapping.js';
import { cpuPer, type DriveResult, drive, percentile, runGatewayBench } from './gateway-harness.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SPANS = Number(process.env.BENCH_SPANS ?? 512);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const POOL = 16;

const log = (msg: string) => process.stderr.write(`[otlp-bench] ${msg}\n`);

/** One export request: SPANS execute_tool spans of 20 tasks, as the SDK encodes them. */
function exportBody(r: number): Uint8Array {
  const { provider, spans } = memoryProvider('bench-agent');
  const tracer = provider.getTracer('bench-agent', '1.0.0');
  for (let i = 0; i < SPANS; i++) {
    const task = `otlp-bench-${r}-${i % 20}`;
    const span = tracer.startSpan(
      `execute_tool ${i % 3 === 0 ? 'github.get_file' : 'http.fetch'}`,
      {
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.agent.id': `agent-${i % 40}`,
          'gen_ai.tool.name': i % 3 === 0 ? 'github.get_file' : 'http.fetch',
          'gen_ai.tool.call.id': `call_${r}_${i}`,
          'gen_ai.tool.call.arguments': JSON.stringify({
            path: `src/file-${i}.ts`,
            ref: 'main',
            headers:
              i % 25 === 0
                ? { authorization: `Bearer ${'x1Y2z3'.repeat(6)}${i}` }
                : { accept: 'application/json' },
            options: { retries: 2 },
          }),
          'gen_ai.tool.call.result': `export const x${i} = 1; // owner ops@acme.example see https://docs.acme.example/x`,
          'agenttrail.task.id': task,
          'agenttrail.operation': i % 7 === 0 ? 'write' : 'read',
          'agenttrail.resource': `github:acme/web/blob/main/src/file-${i}.ts`,
        },
      },
      trace.setSpan(context.active(), tracer.startSpan('invoke_agent')),
    );
    span.end();
  }
  return ProtobufTraceSerializer.serializeRequest(spans().filter((s) => s.name.startsWith('execute_tool')))!;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : Number(((s[mid - 1]! + s[mid]!) / 2).toFixed(1));
}

// BENCH_PROFILE_DIR=<dir> writes a V8 CPU profile of the gateway process there.
const nodeFlags = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  : [];

runGatewayBench(
  { runPrefix: 'otlpb', partitions: PARTITIONS, maxBatchEvents: SPANS, nodeFlags, log },
  async (target) => {
    const traces = Array.from({ length: POOL }, (_, r) => exportBody(r));
    // The peer: exactly the events the receiver builds from those spans, as /v1/events JSON.
    const mapper = compileMapping(EMPTY_MAPPING);
    const events = traces.map((b) =>
      JSON.stringify(
        spansToEvents(decodeTraceRequest(b), { tenant: 'bench', seqs: new TaskSeqs(), mapper }).events,
      ),
    );
    log(
      `bodies: ${SPANS} spans, ${(traces[0]!.length / 1024).toFixed(0)} KiB protobuf / ${(events[0]!.length / 1024).toFixed(0)} KiB as events JSON; ${CONCURRENCY} in flight; ${ROUNDS} rounds of ${SECONDS} s each`,
    );
    const common = {
      eventsPerBody: SPANS,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      concurrency: CONCURRENCY,
      log,
    };
    const t: DriveResult[] = [];
    const e: DriveResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      t.push(
        await drive(target, {
          ...common,
          path: '/v1/traces',
          contentType: 'application/x-protobuf',
          bodies: traces,
          okStatus: 200,
        }),
      );
      e.push(
        await drive(target, {
          ...common,
          path: '/v1/events',
          contentType: 'application/json',
          bodies: events,
          okStatus: 202,
        }),
      );
      log(`round ${round}: traces ${cpuPer(t.at(-1)!)} µs/span, events ${cpuPer(e.at(-1)!)} µs/event`);
    }
    const accepted = [...t, ...e].reduce((n, r) => n + r.accepted, 0);
    const otlpUs = median(t.map(cpuPer).filter((x): x is number => x !== null));
    const eventsUs = median(e.map(cpuPer).filter((x): x is number => x !== null));
    const lat = t.flatMap((r) => r.latencies).sort((a, b) => a - b);
    return {
      otlp_spans_per_s: median(t.map((r) => Math.round(r.measured / r.elapsedS))),
      otlp_cpu_us_per_span: otlpUs,
      events_cpu_us_per_event: eventsUs,
      events_per_s: median(e.map((r) => Math.round(r.measured / r.elapsedS))),
      ratio_vs_events_route:
        otlpUs !== null && eventsUs !== null ? Number((otlpUs / eventsUs).toFixed(2)) : null,
      otlp_rounds_cpu_us_per_span: t.map(cpuPer),
      events_rounds_cpu_us_per_event: e.map(cpuPer),
      otlp_p50_ms: Number(percentile(lat, 50).toFixed(1)),
      otlp_p99_ms: Number(percentile(lat, 99).toFixed(1)),
      spans_per_request: SPANS,
      protobuf_bytes_per_span: Math.round(traces[0]!.length / SPANS),
      concurrency: CONCURRENCY,
      acknowledged: accepted,
      failed_requests: [...t, ...e].reduce((n, r) => n + r.failed, 0),
      acks: 'all',
      cpus: cpus().length,
      node: process.version,
    };
  },
);
