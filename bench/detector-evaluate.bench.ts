// Detector rule evaluation on one core: default rules, 10,000 active tasks, realistic action mix.
//
//   npx tsx bench/detector-evaluate.bench.ts [--tasks 10000] [--actions 40] [--verify-hash full|link|off]
//       [--hash-check gateway|recompute] [--profile [--profile-interval-us 1000]] [--by-component]
//       [--repeat 1]
//       (--hash-check: `gateway` (default) feeds each event with the gateway's verdict on its hash,
//       as the service gets it from the gateway's x-agenttrail-validated mark, so verify_hash=full does not
//       recompute the SHA-256; `recompute` feeds events without one, as from producers other
//       than the gateway, and the detector hashes every event itself)   (--by-component: heap per task of sequences, baselines,
//       credentials, tasks, by dropping each in turn; the snapshot figures are then absent)
//       (--repeat N: N-1 more measured passes over the same events first, each on a fresh detector,
//       for a median less at the mercy of one noisy pass: detector_events_per_s_runs lists them all,
//       the last being the pass the other figures come from, and detector_events_per_s_median)
//
// Progress goes to stderr; the LAST stdout line is a JSON object with detector_events_per_s and
// bytes_per_task. bytes_per_task is the heap delta after a forced GC (gc is enabled at run time
// through v8 flags) divided by the number of tasks; snapshot_bytes_per_task is the JSON snapshot size.
// snapshot_json_ms is the first snapshot (every task serialised); snapshot_incremental_ms the next
// one after 5,000 more events on 200 of the tasks (only what they touched serialised again);
// *_encode_ms the Buffer.from of each text that snapshot-store.ts does before writing it.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fp, TaskStream } from '../scenarios/builder.js';
import { OPS_SCOPE } from '../scenarios/fixtures.js';
import type { AgentEvent, ScopeInput } from '../schemas/index.js';
import { createDetector, type Detector } from '../services/detector/engine.js';
import { loadDefaultRules } from '../services/detector/rules/default-rules.js';
import { snapshotRenders } from '../services/detector/snapshot/inspect.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const TASKS = Number(arg('tasks', '10000'));
const ACTIONS = Number(arg('actions', '40'));
const VERIFY = arg('verify-hash', 'full') as 'full' | 'link' | 'off';
const HASH_CHECK = arg('hash-check', 'gateway') as 'gateway' | 'recompute';
if (HASH_CHECK !== 'gateway' && HASH_CHECK !== 'recompute') throw new Error('--hash-check gateway|recompute');
// Every bench event's hash is right, so the gateway's verdict on each is `ok`.
const VERDICT = HASH_CHECK === 'gateway' ? ('ok' as const) : undefined;
const log = (msg: string) => process.stderr.write(`[detector-bench] ${msg}\n`);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// Deterministic pseudo-random mix, so runs are comparable.
let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const scope: ScopeInput = OPS_SCOPE;

type Step = (s: TaskStream, t: number, i: number) => void;
// Mostly in-scope reads and writes; a few secrets in output, sends inside egress, approved
// deletes, and ~1% violations so alert construction is part of the measured path.
const STEPS: [number, Step][] = [
  [
    0.45,
    (s, t, i) =>
      s.action(
        {
          tool: 'github.get_file',
          operation: 'read',
          resource: `github:acme/repo-${t % 50}/f${i}`,
          credential_id: `c${t}`,
        },
        { dtMs: 50 },
      ),
  ],
  [
    0.2,
    (s, t, i) =>
      s.action({ tool: 'fs.write', operation: 'write', resource: `/work/t${t}/f${i % 7}.ts` }, { dtMs: 50 }),
  ],
  [
    0.1,
    (s) =>
      s.action(
        {
          tool: 'db.query',
          operation: 'read',
          resource: 'db:prod/orders',
          data_classes: ['internal'],
          output: { records: 20 },
        },
        { dtMs: 50 },
      ),
  ],
  [
    0.1,
    (s, t) =>
      s.action(
        { tool: 'vault.read', operation: 'read', resource: 'vault:kv/ci/deploy', data_classes: ['secret'] },
        { dtMs: 50, secrets: [{ kind: 'token', path: 'data.output.excerpt', fp: fp(`k${t}`) }] },
      ),
  ],
  [
    0.1,
    (s, t) =>
      s.action(
        { tool: 'http.post', operation: 'write', destination: 'https://api.github.com/x' },
        {
          dtMs: 50,
          secrets: [{ kind: 'token', path: 'data.arguments.h', fp: fp(`k${t}`) }],
          entities: [{ kind: 'host', path: 'data.destination', fp: fp('api.github.com') }],
        },
      ),
  ],
  [
    0.04,
    (s, t, i) =>
      s.grant(
        `a${t}.${i}`,
        'alice@acme.example',
        { tool: 'db.admin', operation: 'delete', resource: 'db:prod/tmp' },
        {},
        { dtMs: 50 },
      ),
  ],
  [0.01, (s) => s.action({ tool: 'shell.exec', operation: 'execute' }, { dtMs: 50 })],
];

function pick(): Step {
  let r = rand();
  for (const [p, step] of STEPS) {
    r -= p;
    if (r <= 0) return step;
  }
  return STEPS[0]![1];
}

log(`building ${TASKS} tasks × ${ACTIONS} events (hash-chained)…`);
const t0 = performance.now();
const streams: TaskStream[] = [];
for (let t = 0; t < TASKS; t++) {
  const s = new TaskStream({
    taskId: `bench-${t}`,
    agentId: `agent-${t % 200}`,
    workloadIdentity: `spiffe://acme/agent-${t % 200}`,
    startMs: Date.parse('2026-06-01T09:00:00Z') + t,
    trusted: false,
  });
  s.declared(scope, { intent: 'bench task' }).credential(`c${t}`, 86_400_000);
  streams.push(s);
}
const setup: AgentEvent[] = streams.flatMap((s) => s.events());
// Trusted mode from here on: payloads are complete, zod parsing would only slow the build.
const bodies: AgentEvent[][] = streams.map(() => []);
for (let i = 0; i < ACTIONS; i++) {
  for (let t = 0; t < TASKS; t++) {
    const s = streams[t]!;
    const before = s.events().length;
    pick()(s, t, i);
    bodies[t]!.push(s.events()[before]!);
  }
}
// Round-robin across tasks: all 10,000 tasks stay active throughout.
const body: AgentEvent[] = [];
for (let i = 0; i < ACTIONS; i++) for (let t = 0; t < TASKS; t++) body.push(bodies[t]![i]!);
log(`built ${setup.length + body.length} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const rules = loadDefaultRules();
// Warm-up pass on a throw-away detector (inside a function, so it is garbage afterwards) so the
// JIT has compiled the hot path before timing.
function warmUp(): void {
  const warm = createDetector({ rules, config: { verify_hash: VERIFY }, clock: () => 0 });
  for (const e of setup) warm.process(e, VERDICT);
  for (const e of body.slice(0, 200_000)) warm.process(e, VERDICT);
}
warmUp();
const REPEAT = Math.max(1, Number(arg('repeat', '1')));
const runs: number[] = [];
// Extra passes before the one whose state is measured; each detector is garbage afterwards.
function extraPass(): number {
  const d = createDetector({ rules, config: { verify_hash: VERIFY }, clock: () => 0 });
  for (const e of setup) d.process(e, VERDICT);
  const start = performance.now();
  for (let i = 0; i < body.length; i++) d.process(body[i]!, VERDICT);
  return body.length / ((performance.now() - start) / 1000);
}
for (let r = 1; r < REPEAT; r++) {
  gc();
  runs.push(Math.round(extraPass()));
  log(`  pass ${r}: ${runs[r - 1]} events/s`);
}
gc();
gc();
const heapBefore = process.memoryUsage().heapUsed;
// Everything the measured detector owns hangs off `holder`, so dropping it frees exactly its state.
const holder: { d?: Detector } = {
  d: createDetector({ rules, config: { verify_hash: VERIFY }, clock: () => 0 }),
};
let alerts = 0;
let cpuSeconds = 0;
for (const e of setup) alerts += holder.d!.process(e, VERDICT).length;
const PROFILE = process.argv.includes('--profile');
// Sampling interval of --profile (µs): below the inspector's default 1,000 for more samples per run.
const PROFILE_INTERVAL_US = Number(arg('profile-interval-us', '1000'));
const session = PROFILE ? new Session() : undefined;
if (session) {
  session.connect();
  await new Promise<void>((r) =>
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US }, () =>
        session.post('Profiler.start', () => r()),
      ),
    ),
  );
}

log(
  `measuring ${body.length} events over ${TASKS} active tasks (verify_hash=${VERIFY}, hash_check=${HASH_CHECK})…`,
);
const seconds = runMeasured(holder.d!, body);
if (session) {
  await new Promise<void>((r) =>
    session.post('Profiler.stop', (_err, { profile }) => {
      writeFileSync('detector-evaluate.cpuprofile', JSON.stringify(profile));
      log('profile written to detector-evaluate.cpuprofile');
      r();
    }),
  );
}
// State size = heap with the detector holding 10,000 tasks minus heap before it existed (full GCs),
// measured before the snapshot below exists: the snapshot is a full JSON copy of the state and
// used to be alive here, inflating the figure by its own size.
gc();
gc();
const heapAfter = process.memoryUsage().heapUsed;
// Per component: drop one part of the detector's state at a time and see what the heap gives back.
const components: Record<string, number> = {};
if (process.argv.includes('--by-component')) {
  const d = holder.d as unknown as Record<string, unknown> & {
    state: { tasks: Map<string, unknown>; credentials: Map<string, unknown> };
  };
  let prev = heapAfter;
  const drop = (name: string, fn: () => void) => {
    fn();
    gc();
    gc();
    const now = process.memoryUsage().heapUsed;
    components[name] = Math.round((prev - now) / TASKS);
    prev = now;
  };
  drop('sequences', () => {
    (d.sequences as { byRule: Map<string, unknown> }).byRule.clear();
  });
  drop('baselines', () => {
    (d.baselines as { identities: Map<string, unknown> }).identities.clear();
  });
  drop('credentials', () => d.state.credentials.clear());
  drop('tasks', () => d.state.tasks.clear());
  drop('rest', () => {
    holder.d = undefined;
  });
}
// What the detector service does every DETECTOR_SNAPSHOT_INTERVAL_MS, on its consume loop:
// the time is a pause in event processing, so it is reported. The text is a rope (see
// services/detector/snapshot/writer.ts): the copy into flat memory is part of the encode.
const snapStart = performance.now();
let snapJson = holder.d?.snapshotJson() ?? '{}';
const snapshotMs = performance.now() - snapStart;
const encodeMs = timeEncode(snapJson);
const snapshotBytes = Buffer.byteLength(snapJson);
const sectionBytes = Object.fromEntries(
  Object.entries(JSON.parse(snapJson) as Record<string, unknown>).map(([k, v]) => [
    k,
    Math.round(Buffer.byteLength(JSON.stringify(v) ?? '') / TASKS),
  ]),
);
const stats = holder.d?.stats();
snapJson = '';
// The price of incremental snapshots: the detector keeps each unit's snapshot text. Full GCs a
// timer turn apart: within one turn the garbage of the snapshot just taken survives them all.
const cacheBytesPerTask = Math.round(((await settledHeapUsed()) - heapAfter) / TASKS);

// Steady state: 5,000 more events on 200 of the tasks (a few seconds' worth for them), then the
// next snapshot. No forced GC before it: sweeping after one inflated the figure 3×.
const SLICE_TASKS = Math.min(200, TASKS);
const SLICE_EVENTS = 5_000;
let incremental: { ms: number; encodeMs: number; tasksTouched: number } | undefined;
if (holder.d !== undefined) {
  const d = holder.d;
  const picked = new Set<number>();
  while (picked.size < SLICE_TASKS) picked.add(Math.floor(rand() * TASKS));
  const slice: AgentEvent[] = [];
  for (let i = ACTIONS; slice.length < SLICE_EVENTS; i++) {
    for (const t of picked) {
      if (slice.length === SLICE_EVENTS) break;
      const s = streams[t]!;
      const before = s.events().length;
      pick()(s, t, i);
      slice.push(s.events()[before]!);
    }
  }
  for (const e of slice) d.process(e, VERDICT);
  const rendered = snapshotRenders(d).tasks;
  const start = performance.now();
  const text = d.snapshotJson();
  const ms = performance.now() - start;
  incremental = { ms, encodeMs: timeEncode(text), tasksTouched: snapshotRenders(d).tasks - rendered };
}

async function settledHeapUsed(): Promise<number> {
  let used = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    gc();
    used = Math.min(used, process.memoryUsage().heapUsed);
    await new Promise((r) => setTimeout(r, 100));
  }
  return used;
}

function timeEncode(text: string): number {
  const start = performance.now();
  Buffer.from(`{"offsets":{},"detector":${text}}`);
  return performance.now() - start;
}

function runMeasured(d: Detector, events: AgentEvent[]): number {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < events.length; i++) {
    alerts += d.process(events[i]!, VERDICT).length;
    if ((i + 1) % 100_000 === 0) log(`  ${i + 1} events`);
  }
  const cpu = process.cpuUsage(cpu0);
  cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return (performance.now() - start) / 1000;
}

runs.push(Math.round(body.length / seconds));
const sortedRuns = [...runs].sort((a, b) => a - b);
const mid = sortedRuns.length >> 1;
const result = {
  detector_events_per_s: Math.round(body.length / seconds),
  ...(runs.length > 1
    ? {
        detector_events_per_s_runs: runs,
        detector_events_per_s_median:
          sortedRuns.length % 2 === 1
            ? sortedRuns[mid]
            : Math.round((sortedRuns[mid - 1]! + sortedRuns[mid]!) / 2),
      }
    : {}),
  bytes_per_task: Math.round((heapAfter - heapBefore) / TASKS),
  bytes_per_task_method:
    "heap after minus heap before the measured detector, full GC each, taken before the snapshot is built (tasks, credentials, baselines, partial matches) / tasks; strings shared with the benchmark's retained event objects (ids) are not counted",
  snapshot_bytes_per_task: Math.round(snapshotBytes / TASKS),
  snapshot_json_ms: Number(snapshotMs.toFixed(1)),
  ...(incremental !== undefined
    ? {
        snapshot_incremental_ms: Number(incremental.ms.toFixed(1)),
        snapshot_incremental_tasks_touched: incremental.tasksTouched,
        snapshot_incremental_events: SLICE_EVENTS,
        snapshot_encode_ms: Number(encodeMs.toFixed(1)),
        snapshot_incremental_encode_ms: Number(incremental.encodeMs.toFixed(1)),
        snapshot_cache_bytes_per_task: cacheBytesPerTask,
      }
    : {}),
  snapshot_bytes_per_task_by_section: sectionBytes,
  tasks: TASKS,
  events: body.length,
  seconds: Number(seconds.toFixed(3)),
  // CPU time of this process over the measured loop (includes GC threads): less sensitive than
  // wall time to other work on a shared machine, so comparisons between runs are steadier.
  cpu_seconds: Number(cpuSeconds.toFixed(3)),
  events_per_cpu_s: Math.round(body.length / cpuSeconds),
  alerts,
  rules: rules.rules.length,
  verify_hash: VERIFY,
  hash_check: HASH_CHECK,
  ...(Object.keys(components).length > 0 ? { bytes_per_task_by_component: components } : {}),
  duplicates: stats?.duplicates,
  partial_overflow: stats?.partialOverflow,
  node: process.version,
};
log('done');
console.log(JSON.stringify(result));
