import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { createKey } from '../services/gateway/keys.js';
import { randomFreePort, stackDown, stackUp } from '../stack/index.js';
import { processCpuMicros } from './process-cpu.js';

// The gateway as a benchmark target: started as a CHILD process (so the load generator does not
// share its event loop) on a fresh topic, and driven with pre-built request bodies from 127.0.0.1,
// a fixed number in flight for a bounded time, its CPU read from /proc over the measured window.
// Used by gateway-ingest.bench.ts (/v1/events) and otlp.bench.ts (/v1/traces beside /v1/events).

export interface GatewayTarget {
  url: string;
  key: string;
  pid: number | undefined;
  topic: string;
  admin: Admin;
  /** Messages on the topic now (all partitions). */
  onTopic(): Promise<number>;
  close(): Promise<void>;
}

export interface GatewayTargetOptions {
  brokers: string[];
  run: string;
  partitions: number;
  maxBatchEvents: number;
  workers?: number;
  /** Extra node flags for the gateway (e.g. --cpu-prof). */
  nodeFlags?: string[];
  log: (msg: string) => void;
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

export async function startGatewayTarget(o: GatewayTargetOptions): Promise<GatewayTarget> {
  const topic = `bench.gateway.${o.run}`;
  const kafka = new Kafka({ clientId: 'gateway-bench', brokers: o.brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: o.partitions }], waitForLeaders: true });
  const dir = mkdtempSync(join(tmpdir(), 'agenttrail-gwbench-'));
  const keysFile = join(dir, 'keys.json');
  const { key } = createKey(keysFile, 'bench', 'benchmark');
  const port = await randomFreePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [...(o.nodeFlags ?? []), '--import', 'tsx', 'services/gateway/main.ts'],
    {
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        KAFKA_BROKERS: o.brokers.join(','),
        KAFKA_TOPIC_EVENTS: topic,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(port),
        GATEWAY_KEYS_FILE: keysFile,
        GATEWAY_FINGERPRINT_KEY: 'bench-fingerprint-key-0123456789',
        GATEWAY_MAX_BATCH_EVENTS: String(Math.max(o.maxBatchEvents, 1000)),
        GATEWAY_RATE_LIMIT_EVENTS_PER_S: '10000000',
        GATEWAY_RATE_LIMIT_BURST_EVENTS: '10000000',
        GATEWAY_PRODUCE_TIMEOUT_MS: '10000',
        GATEWAY_WORKERS: String(o.workers ?? 1),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  try {
    await waitReady(url, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  o.log(`gateway ready on ${url}; topic ${topic} (${o.partitions} partitions)`);
  return {
    url,
    key,
    pid: child.pid,
    topic,
    admin,
    async onTopic() {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    },
    async close() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DriveOptions {
  path: string;
  contentType: string;
  /** Pre-built bodies, sent round-robin; each carries `eventsPerBody` events (or spans). */
  bodies: ReadonlyArray<string | Uint8Array>;
  eventsPerBody: number;
  /** The status that means accepted (202 for /v1/events, 200 for /v1/traces). */
  okStatus: number;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  log: (msg: string) => void;
}

export interface DriveResult {
  /** Events (or spans) accepted in the measured window. */
  measured: number;
  elapsedS: number;
  /** Gateway CPU (with its cluster workers) over the measured window, µs. */
  cpuUs: number | undefined;
  /** Request latencies of accepted requests in the measured window, ms, sorted. */
  latencies: number[];
  accepted: number;
  failed: number;
}

export async function drive(target: GatewayTarget, o: DriveOptions): Promise<DriveResult> {
  let accepted = 0;
  let failed = 0;
  let measuring = false;
  let measured = 0;
  const latencies: number[] = [];
  let next = 0;
  const headers = { 'content-type': o.contentType, authorization: `Bearer ${target.key}` };
  const warmEnd = performance.now() + o.warmupSeconds * 1000;
  const end = warmEnd + o.seconds * 1000;
  let measureStart = 0;
  let cpuStart: number | undefined;
  async function worker() {
    while (performance.now() < end) {
      const body = o.bodies[next++ % o.bodies.length]!;
      const t0 = performance.now();
      const res = await fetch(`${target.url}${o.path}`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      const ms = performance.now() - t0;
      if (res.status === o.okStatus) {
        accepted += o.eventsPerBody;
        if (!measuring && t0 >= warmEnd) {
          measuring = true;
          measureStart = t0;
          cpuStart = processCpuMicros(target.pid, { withChildren: true });
        }
        if (measuring) {
          measured += o.eventsPerBody;
          latencies.push(ms);
        }
      } else {
        failed++;
        if (failed <= 3)
          o.log(`request failed: ${res.status} ${(await res.text().catch(() => '')).slice(0, 200)}`);
      }
    }
  }
  const progress = setInterval(() => o.log(`${o.path}: ${accepted} acknowledged`), 5000);
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  clearInterval(progress);
  const elapsedS = (performance.now() - measureStart) / 1000;
  const cpuEnd = processCpuMicros(target.pid, { withChildren: true });
  const cpuUs = cpuStart !== undefined && cpuEnd !== undefined ? cpuEnd - cpuStart : undefined;
  latencies.sort((a, b) => a - b);
  return { measured, elapsedS, cpuUs, latencies, accepted, failed };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** CPU µs per accepted event (or span), one decimal; null when it could not be read. */
export function cpuPer(r: DriveResult): number | null {
  return r.cpuUs !== undefined && r.measured > 0 ? Number((r.cpuUs / r.measured).toFixed(1)) : null;
}

/**
 * A gateway benchmark's frame: the stack up (or reused), one gateway target on a fresh topic,
 * `measure` run against it, its figures printed as the last stdout line, everything stopped;
 * a failure is logged and exits 1. `acknowledged` in the figures is checked against the topic.
 */
export function runGatewayBench(
  o: Omit<GatewayTargetOptions, 'brokers' | 'run'> & { runPrefix: string },
  measure: (
    target: GatewayTarget,
    run: string,
  ) => Promise<Record<string, unknown> & { acknowledged: number }>,
): void {
  const main = async () => {
    const stack = await stackUp();
    const brokers = stack.kafka.brokers;
    o.log(`stack: kafka ${brokers.join(',')} (started: ${stack.started.join(',') || 'none, reused'})`);
    const run = `${o.runPrefix}${Date.now().toString(36)}`;
    const target = await startGatewayTarget({ ...o, brokers, run });
    try {
      const result = await measure(target, run);
      const onTopic = await target.onTopic();
      if (onTopic < result.acknowledged) {
        o.log(`WARNING: ${result.acknowledged} acknowledged but only ${onTopic} on the topic`);
      }
      process.stdout.write(`${JSON.stringify({ ...result, on_topic: onTopic })}\n`);
    } finally {
      await target.close();
      if (stack.started.length > 0) await stackDown({ only: stack.started });
    }
  };
  main().catch((err) => {
    o.log(`failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
