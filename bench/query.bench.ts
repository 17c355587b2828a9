import { spawn } from 'node:child_process';
import { readdirSync, statfsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import pino from 'pino';
import { prng } from '../scenarios/prng.js';
import { migrate } from '../services/platform/clickhouse/migrate.js';
import { mintKey } from '../services/platform/keys/index.js';
import { stackUp } from '../stack/index.js';
import { cmdlineOf } from '../stack/process.js';
import { cpuMeter, stackPids } from './process-cpu.js';
import { type Plan, plan, type SeedParams, seed, TEAMS } from './query-seed.js';

// Query API latency over a 10M-event record:
//
//   npm run bench -- query [--events 10000000] [--tenants 1000] [--requests 400] [--reseed]
//
// Seeds (bench/query-seed.ts) a database of its own (`bench_query`, or --db), unless it already
// holds a seed of the same parameters (a marker row in bench_seed): a second run skips the
// seeding; --reseed drops and seeds again. Then runs the API (bench/query-server.ts, buildApi) in
// a child process on 127.0.0.1 and drives it with --concurrency (8) clients, one endpoint class
// at a time: warm-up, then --requests requests; p50/p95/p99 per class, then one large export
// streamed and counted. The database is kept for the next run (drop it with --drop).

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    tenants: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '5' },
    requests: { type: 'string', default: '400' },
    warmup: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '8' },
    'deep-page': { type: 'string', default: '20' },
    db: { type: 'string', default: 'bench_query' },
    reseed: { type: 'boolean', default: false },
    drop: { type: 'boolean', default: false },
    /** Comma-separated subset of the classes (development). */
    only: { type: 'string' },
  },
});
const params: SeedParams = {
  events: Number(args.events),
  tenants: Number(args.tenants),
  agentsPerTenant: Number(args.agents),
  seed: 20261203,
};
const DB = args.db!;
if (!/^[a-z_][a-z0-9_]*$/.test(DB)) throw new Error(`--db must be a plain identifier, not '${DB}'`);
const REQUESTS = Number(args.requests);
const WARMUP = Number(args.warmup);
const CONCURRENCY = Number(args.concurrency);
const DEEP_PAGE = Number(args['deep-page']);
const PAGE = 100;
const TARGETS = {
  timeline_p95_ms: 50,
  history_p95_ms: 100,
  resource_p95_ms: 100,
  export_rows_per_s: 100_000,
};
const progress = (msg: string) => process.stderr.write(`[query-bench] ${msg}\n`);

async function scalar(ch: ClickHouseClient, query: string): Promise<string | undefined> {
  const rows = await (await ch.query({ query, query_params: { db: DB }, format: 'JSONEachRow' })).json<{
    v: string;
  }>();
  return rows[0]?.v;
}

/** Seed unless the database already holds this exact seed (its marker row says so). */
async function ensureSeeded(
  ch: ClickHouseClient,
  url: string,
  p: Plan,
): Promise<{ seeded: boolean; seed_s?: number }> {
  const want = JSON.stringify(params);
  const expected = p.tasks.reduce((a, t) => a + t.length, 0);
  if (!args.reseed) {
    const exists = Number(
      await scalar(
        ch,
        "SELECT count() AS v FROM system.tables WHERE database = {db:String} AND name = 'bench_seed'",
      ),
    );
    if (exists) {
      const have = await scalar(ch, 'SELECT any(params) AS v FROM {db:Identifier}.bench_seed');
      const rows = Number(await scalar(ch, 'SELECT count() AS v FROM {db:Identifier}.events'));
      // A task can end a few events past its planned length (an approval is three events), so
      // the stored count is the plan's within 0.01 %; a partial seed is far from it.
      if (have === want && Math.abs(rows - expected) <= expected * 1e-4) {
        progress(
          `${DB} already holds this seed (${rows.toLocaleString()} events): not seeding (--reseed forces it)`,
        );
        // Migrations added since the seed (a projection, a skip index) apply to it as to any database.
        const m = await migrate(ch, { database: DB, retentionDays: 0, log: pino({ level: 'silent' }) });
        if (m.applied.length) progress(`applied ${m.applied.join(', ')} to ${DB}`);
        await waitForMutations(ch);
        return { seeded: false };
      }
      progress(`${DB} holds another seed (${have}, ${rows} rows): seeding again`);
    }
  }
  const free = statfsSync('/work');
  const freeGb = (free.bavail * free.bsize) / 1e9;
  const needGb = (params.events * 150) / 1e9; // ~94 bytes/event stored, room for merges
  if (freeGb < needGb * 2)
    throw new Error(`${freeGb.toFixed(1)} GB free on /work; the seed needs ~${needGb.toFixed(1)} GB`);
  await ch.command({ query: `DROP DATABASE IF EXISTS ${DB} SYNC` });
  // No retention: the seed's month must not age out while it is reused.
  await migrate(ch, { database: DB, retentionDays: 0, log: pino({ level: 'silent' }) });
  const eventsClient = createClient({ url, database: DB, request_timeout: 600_000 });
  progress(
    `seeding ${expected.toLocaleString()} events (${p.tasks.length.toLocaleString()} tasks, ${params.tenants} tenants) into ${DB}`,
  );
  const r = await seed(ch, eventsClient, DB, p, { progress });
  await eventsClient.close();
  progress(
    `seeded ${r.events.toLocaleString()} events and ${r.alerts.toLocaleString()} alerts in ${r.seconds.toFixed(0)} s`,
  );
  // Let the background merges finish (bounded): reads over a few large parts, as in steady state.
  const t0 = Date.now();
  while (Date.now() - t0 < 600_000) {
    const merging = Number(
      await scalar(ch, 'SELECT count() AS v FROM system.merges WHERE database = {db:String}'),
    );
    const parts = Number(
      await scalar(
        ch,
        "SELECT count() AS v FROM system.parts WHERE database = {db:String} AND table = 'events' AND active",
      ),
    );
    if (merging === 0) {
      progress(`merges settled: ${parts} active parts`);
      break;
    }
    progress(`waiting for ${merging} merges (${parts} active parts)`);
    await new Promise((res) => setTimeout(res, 5_000));
  }
  await ch.command({
    query: `CREATE TABLE ${DB}.bench_seed (params String, seeded_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY tuple()`,
  });
  await ch.insert({ table: `${DB}.bench_seed`, values: [{ params: want }], format: 'JSONEachRow' });
  return { seeded: true, seed_s: Math.round((Date.now() - t0) / 1000 + r.seconds) };
}

/** A migration's MATERIALIZE runs in the background: measure only once it is done. */
async function waitForMutations(ch: ClickHouseClient): Promise<void> {
  for (;;) {
    const left = Number(
      await scalar(
        ch,
        'SELECT count() AS v FROM system.mutations WHERE database = {db:String} AND NOT is_done',
      ),
    );
    if (left === 0) return;
    progress(`waiting for ${left} mutations (projection/index materialisation)`);
    await new Promise((res) => setTimeout(res, 3_000));
  }
}

function startServer(url: string, keys: unknown[]): Promise<{ port: number; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/query-server.ts'], {
    env: { ...process.env, CLICKHOUSE_URL: url, BENCH_DB: DB, BENCH_KEYS: JSON.stringify(keys) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`query server exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const { port } = JSON.parse(line) as { port: number };
      resolve({ port, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
  });
}

/** The shared stack's engine when another checkout started it: the libchdb launcher process. */
function clickhouseLauncherPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && cmdlineOf(Number(entry)).some((a) => a.endsWith('clickhouse-launch.py')))
      return Number(entry);
  }
  return undefined;
}

interface Req {
  path: string;
  key: string;
}

const pct = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;

/** `n` requests from `make`, `CONCURRENCY` at a time; latency of each (full body read). */
async function drive(
  base: string,
  make: (i: number) => Req,
  n: number,
): Promise<{ ms: number[]; errors: number }> {
  const ms: number[] = [];
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const r = make(next++);
      const t0 = performance.now();
      const res = await fetch(base + r.path, { headers: { authorization: `Bearer ${r.key}` } });
      await res.arrayBuffer();
      ms.push(performance.now() - t0);
      if (res.status !== 200) {
        if (errors++ < 3) progress(`HTTP ${res.status} for ${r.path}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { ms, errors };
}

async function main(): Promise<void> {
  const stack = await stackUp();
  const url = stack.clickhouse.url;
  const engines = await stackPids(stack);
  const ch = createClient({ url, request_timeout: 600_000 });
  const p = plan(params);
  const seeded = await ensureSeeded(ch, url, p);

  // Who is asked about: the 10 largest tenants and 10 others, each with its own analyst key.
  const rnd = prng(7);
  const targets = p.tenants.slice(0, 10).map((t) => t.tenant);
  while (targets.length < Math.min(20, p.tenants.length)) {
    const t = p.tenants[10 + Math.floor(rnd() * (p.tenants.length - 10))]!.tenant;
    if (!targets.includes(t)) targets.push(t);
  }
  const keys = new Map(targets.map((t) => [t, mintKey(t, 'bench', 'analyst')]));
  const key = (t: string) => keys.get(t)!.key;
  const timelineTasks = p.tasks.filter(
    (t) => targets.includes(t.tenant) && t.length >= 50 && t.length <= 500,
  );
  const server = await startServer(
    url,
    [...keys.values()].map((k) => k.record),
  );
  const base = `http://127.0.0.1:${server.port}`;
  const meter = cpuMeter({ api: server.pid, clickhouse: engines.clickhouse ?? clickhouseLauncherPid() });
  const from = new Date(p.fromMs + 7 * 86_400_000).toISOString();
  const to = new Date(p.fromMs + 21 * 86_400_000).toISOString();
  const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const historyQuery = (agent: string) => q({ agent, from, to, limit: String(PAGE) });

  try {
    // Deep keyset positions: walk DEEP_PAGE pages of each target's agent-0 history once.
    progress(`walking ${DEEP_PAGE} pages of history per target tenant for deep cursors`);
    const deep: Array<{ tenant: string; path: string }> = [];
    for (const t of targets) {
      let cursor: string | null = null;
      for (let page = 1; page < DEEP_PAGE; page++) {
        const res = await fetch(
          `${base}/v1/events?${historyQuery('agent-0')}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          {
            headers: { authorization: `Bearer ${key(t)}` },
          },
        );
        const body = (await res.json()) as { next_cursor: string | null };
        if (!body.next_cursor) break;
        cursor = body.next_cursor;
      }
      if (cursor)
        deep.push({
          tenant: t,
          path: `/v1/events?${historyQuery('agent-0')}&cursor=${encodeURIComponent(cursor)}`,
        });
    }

    const pick = <T>(xs: readonly T[], i: number) => xs[(i * 2654435761) % xs.length]!;
    const classes: Record<string, (i: number) => Req> = {
      timeline: (i) => {
        const t = pick(timelineTasks, i);
        return { path: `/v1/tasks/${encodeURIComponent(t.taskId)}`, key: key(t.tenant) };
      },
      history_first: (i) => {
        const t = pick(targets, i);
        return { path: `/v1/events?${historyQuery(`agent-${i % params.agentsPerTenant}`)}`, key: key(t) };
      },
      history_deep: (i) => {
        const d = pick(deep, i);
        return { path: d.path, key: key(d.tenant) };
      },
      resource: (i) => {
        const t = pick(targets, i);
        const month = String(1 + (i % 12)).padStart(2, '0');
        const glob = `s3://${t}-data/${TEAMS[i % TEAMS.length]}/reports/2026-${month}/**`;
        return { path: `/v1/resources?${q({ glob, from, to })}`, key: key(t) };
      },
      alerts: (i) => {
        const t = pick(targets, i);
        return {
          path: `/v1/alerts?${q(i % 2 ? { status: 'firing', limit: '50' } : { severity: 'high', limit: '50' })}`,
          key: key(t),
        };
      },
    };
    const figures: Record<
      string,
      { p50: number; p95: number; p99: number; errors: number; cpu_cores: Record<string, number> }
    > = {};
    const only = args.only?.split(',');
    for (const [name, make] of Object.entries(classes)) {
      if (only && !only.includes(name)) continue;
      await drive(base, (i) => make(i + 1_000_003), WARMUP);
      meter.start();
      const t0 = performance.now();
      const r = await drive(base, make, REQUESTS);
      const s = (performance.now() - t0) / 1000;
      const sorted = r.ms.sort((a, b) => a - b);
      figures[name] = {
        p50: round(pct(sorted, 0.5)),
        p95: round(pct(sorted, 0.95)),
        p99: round(pct(sorted, 0.99)),
        errors: r.errors,
        cpu_cores: meter.cores(),
      };
      progress(
        `${name}: p50 ${figures[name].p50} ms, p95 ${figures[name].p95} ms, p99 ${figures[name].p99} ms, ${Math.round(REQUESTS / s)} req/s, ${r.errors} errors, CPU ${JSON.stringify(figures[name].cpu_cores)}`,
      );
    }
    // One large export alone: the largest tenant's whole month, NDJSON, counted as it streams.
    const big = p.tenants[0]!.tenant;
    meter.start();
    const t0 = performance.now();
    const res = await fetch(
      `${base}/v1/events/export?${q({ from: new Date(p.fromMs).toISOString(), to: new Date(p.toMs).toISOString(), format: 'ndjson' })}`,
      { headers: { authorization: `Bearer ${key(big)}` } },
    );
    let rows = 0;
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
    }
    const exportS = (performance.now() - t0) / 1000;
    const exportCpu = meter.cores();
    const exportRate = Math.round(rows / exportS);
    progress(
      `export: ${rows.toLocaleString()} rows (${(bytes / 1e6).toFixed(0)} MB, HTTP ${res.status}) in ${exportS.toFixed(2)} s, CPU ${JSON.stringify(exportCpu)}`,
    );

    const p95 = (name: string) => figures[name]?.p95 ?? Number.NaN;
    // History's figure is the worse of its two kinds of page (first and deep).
    const historyP95 = Math.max(p95('history_first'), p95('history_deep'));
    const result = {
      benchmark: 'query',
      events: p.tasks.reduce((a, t) => a + t.length, 0),
      tenants: params.tenants,
      tasks: p.tasks.length,
      concurrency: CONCURRENCY,
      requests_per_class: REQUESTS,
      deep_page: DEEP_PAGE,
      ...seeded,
      timeline_p95_ms: p95('timeline'),
      history_p95_ms: historyP95,
      resource_p95_ms: p95('resource'),
      alerts_p95_ms: p95('alerts'),
      export_rows_per_s: exportRate,
      export_rows: rows,
      classes: figures,
      export_cpu_cores: exportCpu,
      targets: TARGETS,
      met: {
        timeline: p95('timeline') <= TARGETS.timeline_p95_ms,
        history: historyP95 <= TARGETS.history_p95_ms,
        resource: p95('resource') <= TARGETS.resource_p95_ms,
        export: exportRate >= TARGETS.export_rows_per_s,
      },
    };
    const line = (what: string, measured: string, target: string, met: boolean) =>
      progress(
        `${what.padEnd(10)} measured ${measured.padEnd(16)} target ${target.padEnd(16)} ${met ? 'met' : 'NOT met'}`,
      );
    line('timeline', `p95 ${result.timeline_p95_ms} ms`, '≤ 50 ms', result.met.timeline);
    line('history', `p95 ${result.history_p95_ms} ms`, '≤ 100 ms', result.met.history);
    line('resource', `p95 ${result.resource_p95_ms} ms`, '≤ 100 ms', result.met.resource);
    line('alerts', `p95 ${result.alerts_p95_ms} ms`, '(none)', true);
    line('export', `${exportRate.toLocaleString()} rows/s`, '≥ 100,000 rows/s', result.met.export);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    server.stop();
    if (args.drop) await ch.command({ query: `DROP DATABASE IF EXISTS ${DB} SYNC` });
    await ch.close();
  }
}

await main();
