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

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { createKey } from '../services/gateway/keys.js';
import { randomFreePort, stackDown, stackUp } from '../stack/index.js';
import { jsonFloor } from './json-floor.js';
import { processCpuMicros } from './process-cpu.js';

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

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('gateway not ready within 60 s');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const stack = await stackUp();
  const brokers = stack.kafka.brokers;
  log(`stack: kafka ${brokers.join(',')} (started: ${stack.started.join(',') || 'none, reused'})`);
  const run = `gwb${Date.now().toString(36)}`;
  const topic = `bench.gateway.${run}`;
  const kafka = new Kafka({ clientId: 'gateway-bench', brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });

  const dir = mkdtempSync(join(tmpdir(), 'agenttrail-gwbench-'));
  const keysFile = join(dir, 'keys.json');
  const { key } = createKey(keysFile, 'bench', 'benchmark');
  const port = await randomFreePort();
  const url = `http://127.0.0.1:${port}`;
  // BENCH_PROFILE_DIR=<dir> writes a V8 CPU profile of the gateway process there.
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'services/gateway/main.ts'], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_EVENTS: topic,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_KEYS_FILE: keysFile,
      GATEWAY_FINGERPRINT_KEY: 'bench-fingerprint-key-0123456789',
      GATEWAY_MAX_BATCH_EVENTS: String(Math.max(BATCH, 1000)),
      GATEWAY_RATE_LIMIT_EVENTS_PER_S: '10000000',
      GATEWAY_RATE_LIMIT_BURST_EVENTS: '10000000',
      GATEWAY_PRODUCE_TIMEOUT_MS: '10000',
      GATEWAY_WORKERS: String(WORKERS),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(url, child);
    log(`gateway ready on ${url}; topic ${topic} (${PARTITIONS} partitions)`);

    // A pool of pre-serialised bodies: the generator's own CPU stays small next to the gateway's.
    const bodies = Array.from({ length: POOL }, (_, r) =>
      JSON.stringify(Array.from({ length: BATCH }, (_, i) => event(run, r, i))),
    );
    log(
      `body: ${BATCH} events, ${(bodies[0]!.length / 1024).toFixed(0)} KiB; ${CONCURRENCY} requests in flight`,
    );

    let accepted = 0;
    let failed = 0;
    let measuring = false;
    let measuredEvents = 0;
    const latencies: number[] = [];
    let next = 0;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const warmEnd = performance.now() + WARMUP * 1000;
    const end = warmEnd + SECONDS * 1000;
    let measureStart = 0;
    let cpuStart: number | undefined;

    async function worker() {
      while (performance.now() < end) {
        const body = bodies[next++ % POOL]!;
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/events`, { method: 'POST', headers, body });
        await res.arrayBuffer();
        const ms = performance.now() - t0;
        if (res.status === 202) {
          accepted += BATCH;
          if (!measuring && t0 >= warmEnd) {
            measuring = true;
            measureStart = t0;
            cpuStart = processCpuMicros(child.pid, { withChildren: true });
          }
          if (measuring) {
            measuredEvents += BATCH;
            latencies.push(ms);
          }
        } else {
          failed++;
          if (failed <= 3)
            log(`request failed: ${res.status} ${(await res.text().catch(() => '')).slice(0, 200)}`);
        }
      }
    }
    const progress = setInterval(() => log(`${accepted} events acknowledged`), 5000);
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    clearInterval(progress);
    const elapsedS = (performance.now() - measureStart) / 1000;
    // Cluster workers (GATEWAY_WORKERS > 1) are the gateway's children: counted too.
    const cpuEnd = processCpuMicros(child.pid, { withChildren: true });
    const cpuUs = cpuStart !== undefined && cpuEnd !== undefined ? cpuEnd - cpuStart : undefined;

    const offsets = await admin.fetchTopicOffsets(topic);
    const onTopic = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    latencies.sort((a, b) => a - b);
    // Measured after the load, with the gateway idle: the floor gets a core to itself as far as
    // the machine allows, so the ratio errs on the gateway's side.
    const floor = jsonFloor(bodies);
    log(`floor passes (µs/event): ${floor.passes_us_per_event.join(', ')}`);
    const gatewayUs = cpuUs !== undefined && measuredEvents > 0 ? cpuUs / measuredEvents : undefined;
    const result = {
      gateway_events_per_s: Math.round(measuredEvents / elapsedS),
      p99_ms: Number(percentile(latencies, 99).toFixed(1)),
      p50_ms: Number(percentile(latencies, 50).toFixed(1)),
      // Gateway process CPU (all threads) per acknowledged event, and its cores busy.
      gateway_cpu_us_per_event: gatewayUs !== undefined ? Number(gatewayUs.toFixed(1)) : null,
      floor_us_per_event: floor.floor_us_per_event,
      ratio_vs_floor:
        gatewayUs !== undefined ? Number((gatewayUs / floor.floor_us_per_event).toFixed(2)) : null,
      gateway_cpu_cores: cpuUs !== undefined ? Number((cpuUs / 1e6 / elapsedS).toFixed(2)) : null,
      batch_events: BATCH,
      concurrency: CONCURRENCY,
      gateway_workers: WORKERS,
      measured_s: Number(elapsedS.toFixed(1)),
      events_acknowledged: accepted,
      events_on_topic: onTopic,
      failed_requests: failed,
      acks: 'all',
      cpus: cpus().length,
      node: process.version,
    };
    if (onTopic < accepted) log(`WARNING: ${accepted} acknowledged but only ${onTopic} on the topic`);
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
    if (stack.started.length > 0) await stackDown({ only: stack.started });
  }
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
