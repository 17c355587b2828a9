// Gateway ingest benchmark: batch requests over HTTP into the gateway, acks=all to Kafka.
//
//   npx tsx bench/gateway-ingest.bench.ts   (or `npm run bench -- gateway`)
//
// Brings the local stack up (or reuses it), starts the gateway as a CHILD process (so the load
// generator does not share its event loop) against a fresh topic, drives batch requests from
// 127.0.0.1 with a fixed number in flight for a bounded time, then checks the topic's offsets
// against the events acknowledged. Progress goes to stderr; the LAST stdout line is JSON with
// `gateway_events_per_s` and `p99_ms` (request latency, 202 only).
//
// Knobs (env): BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (3), BENCH_BATCH (1000),
// BENCH_CONCURRENCY (8), BENCH_PARTITIONS (6), BENCH_PROFILE_DIR (unset), BENCH_GATEWAY_WORKERS
// (1: GATEWAY_WORKERS of the gateway). The JSON also carries `gateway_cpu_us_per_event` (CPU of the
// gateway and its workers per acknowledged event), the steadier figure on a shared machine, and, in
// the same run on the same bodies, `floor_us_per_event` (json-floor.ts: JSON.parse + JSON.stringify
// + SHA-256 per event, in this process, after the load) and `ratio_vs_floor` = gateway / floor.

import { cpus } from 'node:os';
import { cpuPer, drive, percentile, runGatewayBench } from './gateway-harness.js';
import { jsonFloor } from './json-floor.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const WORKERS = Number(process.env.BENCH_GATEWAY_WORKERS ?? 1);
const POOL = 32;

const log = (msg: string) => process.stderr.write(`[gateway-bench] ${msg}\n`);

/** A realistic action event (~700 bytes): nested arguments, an output excerpt, now and then a secret. */
function event(run: string, req: number, i: number): Record<string, unknown> {
  const task = `${run}-t${req}-${i % 20}`;
  const secret =
    i % 25 === 0 ? { authorization: `Bearer ${'x1Y2z3'.repeat(6)}${i}` } : { accept: 'application/json' };
  return {
    event_id: `${run}-${req}-${i}`,
    schema_version: 1,
    type: 'action',
    occurred_at: new Date().toISOString(),
    tenant: 'bench',
    agent: { id: `agent-${i % 40}`, instance: 'pod-a', workload_identity: `spiffe://bench/agent/${i % 40}` },
    task_id: task,
    seq: Math.floor(i / 20) + 2,
    prev_hash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    data: {
      tool: i % 3 === 0 ? 'github.get_file' : 'http.fetch',
      operation: i % 7 === 0 ? 'write' : 'read',
      resource: `github:acme/web/blob/main/src/file-${i}.ts`,
      destination: 'api.github.com',
      data_classes: ['internal'],
      credential_id: 'cred-gh-1',
      outcome: 'ok',
      arguments: { path: `src/file-${i}.ts`, ref: 'main', headers: secret, options: { retries: 2 } },
      output: {
        excerpt: `export const x${i} = 1; // owner ops@acme.example see https://docs.acme.example/x`,
        bytes: 1200,
      },
      latency_ms: 12.5,
    },
  };
}

// BENCH_PROFILE_DIR=<dir> writes a V8 CPU profile of the gateway process there.
const nodeFlags = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  : [];

runGatewayBench(
  { runPrefix: 'gwb', partitions: PARTITIONS, maxBatchEvents: BATCH, workers: WORKERS, nodeFlags, log },
  async (target, run) => {
    // A pool of pre-serialised bodies: the generator's own CPU stays small next to the gateway's.
    const bodies = Array.from({ length: POOL }, (_, r) =>
      JSON.stringify(Array.from({ length: BATCH }, (_, i) => event(run, r, i))),
    );
    log(
      `body: ${BATCH} events, ${(bodies[0]!.length / 1024).toFixed(0)} KiB; ${CONCURRENCY} requests in flight`,
    );
    const r = await drive(target, {
      path: '/v1/events',
      contentType: 'application/json',
      bodies,
      eventsPerBody: BATCH,
      okStatus: 202,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      concurrency: CONCURRENCY,
      log,
    });
    // Measured after the load, with the gateway idle: the floor gets a core to itself as far as
    // the machine allows, so the ratio errs on the gateway's side.
    const floor = jsonFloor(bodies);
    log(`floor passes (µs/event): ${floor.passes_us_per_event.join(', ')}`);
    const gatewayUs = cpuPer(r);
    return {
      gateway_events_per_s: Math.round(r.measured / r.elapsedS),
      p99_ms: Number(percentile(r.latencies, 99).toFixed(1)),
      p50_ms: Number(percentile(r.latencies, 50).toFixed(1)),
      // Gateway process CPU (all threads) per acknowledged event, and its cores busy.
      gateway_cpu_us_per_event: gatewayUs,
      floor_us_per_event: floor.floor_us_per_event,
      ratio_vs_floor: gatewayUs !== null ? Number((gatewayUs / floor.floor_us_per_event).toFixed(2)) : null,
      gateway_cpu_cores: r.cpuUs !== undefined ? Number((r.cpuUs / 1e6 / r.elapsedS).toFixed(2)) : null,
      batch_events: BATCH,
      concurrency: CONCURRENCY,
      gateway_workers: WORKERS,
      measured_s: Number(r.elapsedS.toFixed(1)),
      acknowledged: r.accepted,
      failed_requests: r.failed,
      acks: 'all',
      cpus: cpus().length,
      node: process.version,
    };
  },
);
