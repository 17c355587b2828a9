// End-to-end alert latency under load: gateway 202 for a violating event → signed page at a
// webhook receiver, through the whole pipeline (gateway → Kafka → detector → Kafka → alerter).
//
//   npm run bench -- alert-latency
//
// Brings the local stack up (or reuses it, or uses KAFKA_BROKERS / CLICKHOUSE_URL), starts the
// four services as child processes on this run's own topics, groups and database (the
// pipeline `agenttrail demo` uses), and a receiver on 127.0.0.1 that verifies signatures. A
// separate load process (bench/alert-latency-load.ts) sends benign tasks at BENCH_RATE
// events/s; meanwhile, every BENCH_EVERY_MS, one new task is declared and immediately uses a
// tool outside its scope (AT-SCOPE-001). Each violation is its own task, so its own dedup key:
// no page waits for another. Latency per violation = receiver got the page − this process saw
// the gateway's 202 for the request carrying the violating event (same host clock).
//
// group_wait_ms is the alerter's shipped default (DEFAULT_GROUP_WAIT_MS, 50 ms) unless BENCH_GROUP_WAIT_MS says
// otherwise: a first page of a dedup key always waits that long for siblings, by design, so it
// is part of what an on-call person experiences and belongs in the figure.
//
// Knobs (env): BENCH_SECONDS (40), BENCH_RATE (5000), BENCH_EVERY_MS (200),
// BENCH_GROUP_WAIT_MS (50), BENCH_KEEP=1 keeps the run's database and topics.
// Progress on stderr; the LAST stdout line is a JSON object of figures.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { pageFacts, pollUntil, storedEventCounts } from '../cli/pipeline/observe.js';
import { startReceiver } from '../cli/pipeline/receiver.js';
import { startPipeline } from '../cli/pipeline/start.js';
import { TaskStream } from '../scenarios/builder.js';
import { OPS_SCOPE } from '../scenarios/fixtures.js';
import { type AgentEvent, DEFAULT_GROUP_WAIT_MS } from '../schemas/index.js';
import { defaultStateDir, stackUp } from '../stack/index.js';
import { repoRoot } from '../stack/paths.js';
import { cpuMeter, stackPids } from './process-cpu.js';
import { type StageBatches, stageBatches } from './stage-metrics.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 40);
const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const EVERY_MS = Number(process.env.BENCH_EVERY_MS ?? 200);
const GROUP_WAIT_MS = Number(process.env.BENCH_GROUP_WAIT_MS ?? DEFAULT_GROUP_WAIT_MS);
/** Load runs alone this long before the first violation (connections, JIT, consumer fetch loop). */
const WARMUP_MS = 3_000;
const TENANT = 'bench';
const log = (msg: string) => process.stderr.write(`[alert-latency] ${msg}\n`);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** The background load process: its pid, and its final JSON line once it exits. */
function startLoad(env: Record<string, string>): {
  pid: number | undefined;
  done: Promise<Record<string, number>>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'bench', 'alert-latency-load.ts')],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  const done = new Promise<Record<string, number>>((resolve, reject) =>
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, number>);
      else reject(new Error(`load process exited with ${code}`));
    }),
  );
  return { pid: child.pid, done };
}

/** A task that declares the ops scope and at once opens a shell it never declared. */
function violation(run: string, n: number): AgentEvent[] {
  const s = new TaskStream({
    taskId: `${run}.v${n}`,
    tenant: TENANT,
    agentId: 'agent-violator',
    workloadIdentity: 'spiffe://acme.example/agent/violator',
    startMs: Date.now(),
  });
  s.declared(OPS_SCOPE, { intent: 'fix a flaky test', by: 'alice@acme.example' });
  s.action({ tool: 'shell.exec', operation: 'execute', resource: 'host:build-7' }, { dtMs: 1 });
  return s.events();
}

function stats(values: number[]) {
  const v = [...values].sort((a, b) => a - b);
  return { p50: quantile(v, 0.5), p99: quantile(v, 0.99), max: v.at(-1) ?? Number.NaN };
}

async function main(): Promise<void> {
  const ep = await stackUp({ log });
  const run = `bench_alert_latency_${Date.now().toString(36)}`;
  const secret = randomBytes(24).toString('base64url');
  const rx = await startReceiver({ secret });
  log(`starting the pipeline (run ${run}, group_wait_ms ${GROUP_WAIT_MS})`);
  const pipeline = await startPipeline({
    brokers: ep.kafka.brokers,
    clickhouseUrl: ep.clickhouse.url,
    database: run,
    run,
    workDir: join(defaultStateDir(), 'bench', run),
    tenant: TENANT,
    // A machine receiver: rate and concurrency above the human-channel defaults, so the
    // destination's own limits are not what is measured.
    webhook: {
      url: `${rx.url}/hook`,
      secret,
      groupWaitMs: GROUP_WAIT_MS,
      ratePerS: 1_000,
      burst: 1_000,
      concurrency: 16,
    },
    log,
  });
  const ch = createClient({ url: ep.clickhouse.url });
  const accepted = new Map<string, number>();
  let load: Record<string, number> = {};
  let rejected = 0;
  const stages: Record<string, StageBatches | undefined> = {};
  // The host's 1-minute load average: the services share its cores with whatever else runs.
  let loadBefore = 0;
  let loadAfter = 0;
  let cpu: Record<string, number> = {};
  const pids = Object.fromEntries(pipeline.services.map((p) => [p.name, p.child.pid]));
  try {
    // BENCH_RATE=0: no background load, the pipeline's fixed latency floor.
    const loadProcess =
      RATE <= 0
        ? { pid: undefined, done: Promise.resolve({}) }
        : startLoad({
            LOAD_GATEWAY_URL: pipeline.gatewayUrl,
            LOAD_API_KEY: pipeline.apiKey,
            LOAD_TENANT: TENANT,
            LOAD_RUN: run,
            LOAD_RATE: String(RATE),
            LOAD_SECONDS: String(SECONDS + WARMUP_MS / 1000),
          });
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    // Who uses the 2 cores while violations are measured: every process of the pipeline.
    const engines = await stackPids(ep);
    const meter = cpuMeter({
      gateway: pids.gateway,
      ingester: pids.ingester,
      detector: pids.detector,
      alerter: pids.alerter,
      kafka: engines.kafka?.pid,
      clickhouse: engines.clickhouse,
      load: loadProcess.pid,
      bench: process.pid,
    });
    meter.start();
    const total = Math.floor((SECONDS * 1000) / EVERY_MS);
    log(`load running; ${total} violations, one every ${EVERY_MS} ms`);
    const started = Date.now();
    loadBefore = loadavg()[0]!;
    const body = (events: AgentEvent[]) => JSON.stringify(events);
    for (let n = 0; n < total; n++) {
      const due = started + n * EVERY_MS;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const events = violation(run, n);
      // Not awaited in turn: a slow 202 must not push the next violation back.
      void fetch(`${pipeline.gatewayUrl}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline.apiKey}` },
        body: body(events),
      }).then(
        async (res) => {
          const at = Date.now();
          await res.arrayBuffer();
          if (res.status === 202) accepted.set(events[0]!.task_id, at);
          else rejected++;
        },
        () => {
          rejected++;
        },
      );
      if (n % 25 === 24) {
        pipeline.assertRunning();
        log(`${n + 1}/${total} violations sent, ${rx.received.length} pages received`);
      }
    }
    // Sampled before the load process exits (it runs until the last violation is due).
    cpu = meter.cores();
    log(`CPU over the measured window, in cores: ${JSON.stringify(cpu)}`);
    load = await loadProcess.done;
    // Pages still in flight: give the last violations the pipeline's own deadline to arrive.
    await pollUntil(
      async () => new Set(rx.received.map((r) => pageFacts(r).taskId)),
      (tasks) => [...accepted.keys()].every((t) => tasks.has(t)),
      10_000,
      100,
    );
    loadAfter = loadavg()[0]!;
    for (const name of ['ingester', 'detector', 'alerter'] as const) {
      stages[name] = await stageBatches(pipeline.metricsUrls[name]);
    }
  } finally {
    const codes = await pipeline.stop();
    log(`services stopped: ${JSON.stringify(codes)}`);
  }

  const endToEnd: number[] = [];
  const detect: number[] = [];
  const deliver: number[] = [];
  let badSignatures = 0;
  let backgroundPages = 0;
  const firstPage = new Map<string, { at: number; created: number }>();
  for (const r of rx.received) {
    const p = pageFacts(r);
    if (!p.signatureOk) badSignatures++;
    if (!accepted.has(p.taskId)) {
      if (!p.taskId.startsWith(`${run}.v`)) backgroundPages++;
      continue;
    }
    const created = Date.parse((r.json as { alert: { created_at: string } }).alert.created_at);
    if (!firstPage.has(p.taskId)) firstPage.set(p.taskId, { at: p.at, created });
  }
  for (const [task, page] of firstPage) {
    const t202 = accepted.get(task)!;
    endToEnd.push(page.at - t202);
    detect.push(page.created - t202);
    deliver.push(page.at - page.created);
  }
  const stored = await storedEventCounts(ch, run, TENANT, [...accepted.keys()]);
  const e2e = stats(endToEnd);
  const d1 = stats(detect);
  const d2 = stats(deliver);
  if (process.env.BENCH_KEEP !== '1') {
    await pipeline.deleteTopics().catch(() => undefined);
    await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db: run } });
  }
  await ch.close();
  await rx.close();
  log(
    `pages for ${firstPage.size}/${accepted.size} violations; end to end p50 ${e2e.p50} ms, p99 ${e2e.p99} ms ` +
      `(202 → alert raised p50 ${d1.p50}/p99 ${d1.p99}; raised → page p50 ${d2.p50}/p99 ${d2.p99})`,
  );
  const result = {
    alert_p50_ms: e2e.p50,
    alert_p99_ms: e2e.p99,
    alert_max_ms: e2e.max,
    violations: accepted.size,
    paged: firstPage.size,
    rejected,
    bad_signatures: badSignatures,
    background_pages: backgroundPages,
    background_events_per_s: load.events_per_s,
    background_events: load.events,
    background_request_p99_ms: load.request_p99_ms,
    background_failed_requests: load.failed,
    violation_events_stored: stored.distinct,
    raised_p50_ms: d1.p50,
    raised_p99_ms: d1.p99,
    paged_after_raised_p50_ms: d2.p50,
    paged_after_raised_p99_ms: d2.p99,
    group_wait_ms: GROUP_WAIT_MS,
    stage_batches: stages,
    cpu_cores_by_process: cpu,
    host_cores: availableParallelism(),
    host_load_1m: [Math.round(loadBefore * 100) / 100, Math.round(loadAfter * 100) / 100],
    seconds: SECONDS,
    violation_every_ms: EVERY_MS,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
