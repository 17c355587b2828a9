import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../../scenarios/builder.js';
import { generateScenarios } from '../../../scenarios/catalogue.js';
import { OPS_SCOPE } from '../../../scenarios/fixtures.js';
import type { AgentEvent, Alert } from '../../../schemas/index.js';
import type { DetectorConfigInput } from '../config.js';
import { createDetector, type Detector } from '../engine.js';
import { DEFAULT_RULES_PATH } from '../rules/default-rules.js';
import { loadRules } from '../rules/sequence/load.js';
import type { RuleSet } from '../rules/sequence/types.js';
import { fullSnapshotJsonForTest, snapshotRenders } from './inspect.js';

// The incremental snapshot (cached text per unit, re-rendered when touched) must be the same JSON
// as serialising the whole state in one pass, at every snapshot: a mutation path that forgets to
// touch its unit shows up here as a stale task, credential, partial match or baseline.

// The default rules seldom hold more than one partial per key; these churn: every read starts a
// partial and advances the pending ones (many per key, overflow), an approval drops them (absent
// guard), second-long windows expire some of a key's partials and not others (matching, sweep),
// and a per-agent rule whose keys a leading absent step keeps alive is cleared by writes (until).
const CHURN = `
- rule:
    id: AT-SEQ-900
    name: churn
    title: t
    description: d
    severity: low
    explanation: x
    sequence:
      by: task_id
      within: 5s
      steps:
        - name: a
          when: { field: data.operation, equals: read }
        - absent: { field: type, equals: approval.granted }
        - name: b
          when: { field: data.operation, equals: read }
        - name: c
          when: { field: data.tool, equals: never.called }
- rule:
    id: AT-SEQ-901
    name: quiet_then_delete
    title: t
    description: d
    severity: low
    explanation: x
    sequence:
      by: agent.id
      within: 20s
      until: { field: data.operation, equals: write }
      steps:
        - absent: { field: type, equals: credential.issued }
        - name: r
          when: { field: data.operation, equals: read }
        - name: d
          when: { field: data.operation, equals: delete }
`;
function ruleSet(defaults: string, churn: string): RuleSet {
  const result = loadRules([
    { name: 'agenttrail_rules.yaml', text: defaults },
    { name: 'churn.yaml', text: churn },
  ]);
  if (result.ruleSet === undefined) throw new Error(JSON.stringify(result.errors));
  return result.ruleSet;
}
const DEFAULTS = readFileSync(DEFAULT_RULES_PATH, 'utf8');
const rules = ruleSet(DEFAULTS, CHURN);
// Two windows changed: a reload drops those rules' partial matches and keeps the others (retain).
const reloaded = ruleSet(
  DEFAULTS.replace('within: 15m', 'within: 16m'),
  CHURN.replace('within: 5s', 'within: 6s'),
);
const MIN = 60_000;
const config: DetectorConfigInput = {
  ended_task_retention_ms: 5 * MIN,
  reorder_timeout_ms: 10_000,
  reorder_window_events: 3,
};

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

/** Per-task event queues: every scenario in several copies hours apart, plus short tasks that end. */
function queues(rand: () => number): AgentEvent[][] {
  const base = Date.parse('2026-06-01T09:00:00Z');
  const byTask = new Map<string, AgentEvent[]>();
  for (let copy = 0; copy < 4; copy++) {
    const startMs = base + copy * 40 * MIN;
    const events = generateScenarios({ id: `c${copy}`, startMs, tenant: copy % 2 ? 'beta' : 'acme' }).flatMap(
      (s) => s.events,
    );
    for (let i = 0; i < 12; i++) {
      const s = new TaskStream({
        taskId: `c${copy}.short${i}`,
        startMs: startMs + i * 1000,
        agentId: `agent-${i % 3}`,
        workloadIdentity: `spiffe://acme/agent-${i % 3}`,
      }).declared(i % 2 ? OPS_SCOPE : { allow: [{ tools: ['**'] }] }, { intent: `short ${i}` });
      s.credential(`c${copy}.short${i}.cred`);
      for (let a = Math.floor(rand() * 10); a >= 0; a--) {
        const r = rand();
        if (r < 0.6) s.action({ tool: 'github.get_file', operation: 'read', resource: `github:acme/r${a}` });
        else if (r < 0.75) s.action({ tool: 'fs.write', operation: 'write', resource: `/work/f${a}` });
        else if (r < 0.85) s.action({ tool: 'fs.delete', operation: 'delete', resource: `/work/f${a}` });
        else if (r < 0.95)
          s.grant(`c${copy}.short${i}.g${a}`, 'alice@acme.example', {
            tool: 'fs.delete',
            operation: 'delete',
          });
        else s.wait(10_000);
      }
      if (rand() < 0.5) s.revoke(`c${copy}.short${i}.cred`);
      events.push(...s.ended().events());
    }
    for (const e of events) byTask.set(e.task_id, [...(byTask.get(e.task_id) ?? []), e]);
  }
  return [...byTask.values()];
}

/** Deliver the queues in a random interleaving, with reorders, redeliveries, conflicts and losses. */
function* delivery(rand: () => number, qs: AgentEvent[][]): Generator<AgentEvent> {
  const live = qs.map((q) => [...q]);
  while (live.length > 0) {
    // Mostly the oldest queues first, so time moves forward roughly as in a real stream.
    const i = Math.floor(rand() ** 2 * Math.min(live.length, 12));
    const q = live[i]!;
    const r = rand();
    if (r < 0.08 && q.length > 1) [q[0], q[1]] = [q[1]!, q[0]!];
    const e = q.shift()!;
    if (q.length === 0) live.splice(i, 1);
    if (r > 0.97) continue; // lost: a gap that tick() declares
    yield e;
    if (r > 0.94) yield structuredClone(e);
    else if (r > 0.92) yield { ...structuredClone(e), event_id: `${e.event_id}.forged` };
  }
}

const timeOf = (e: AgentEvent) => Date.parse(e.occurred_at);
const ids = (alerts: Alert[]) => alerts.map((a) => a.alert_id).sort();

/** The same JSON value as a full pass: compared as text first (the usual case, and fast). */
function expectSameJson(text: string, reference: string): void {
  // Texts may differ only in member order where a member name is an array index (JSON.stringify
  // lists those first); the values must not.
  if (text !== reference) expect(JSON.parse(text)).toEqual(JSON.parse(reference));
}

function expectSameAsFull(d: Detector): string {
  const text = d.snapshotJson();
  expectSameJson(text, fullSnapshotJsonForTest(d));
  return text;
}

describe('incremental snapshots', () => {
  it.each([1, 2, 3, 4, 5])('equal a full serialisation at every snapshot (random mix, seed %i)', (seed) => {
    const rand = lcg(seed);
    let d = createDetector({ rules, config, clock: () => 0 });
    // An uninterrupted twin: the main detector is replaced by a restored copy midway.
    const twin = createDetector({ rules, config, clock: () => 0 });
    const stream = [...delivery(rand, queues(rand))];
    const swapAt = Math.floor(stream.length * (0.3 + rand() * 0.2));
    const restoreAt = Math.floor(stream.length * (0.6 + rand() * 0.2));
    let nowMs = 0;
    let snapshots = 0;
    const both = (f: (x: Detector) => Alert[]) => {
      const a = f(d);
      // Sorted: a restored detector ticks its waiting tasks in snapshot order, not arrival order.
      expect(ids(a)).toEqual(ids(f(twin)));
    };
    stream.forEach((e, i) => {
      nowMs = Math.max(nowMs, timeOf(e));
      both((x) => x.process(e));
      if (i === swapAt) {
        d.setRules(reloaded);
        twin.setRules(reloaded);
      }
      if (i === restoreAt)
        d = createDetector({ rules: reloaded, config, clock: () => 0, snapshot: d.snapshot() });
      const r = rand();
      if (r < 0.1) {
        // Mostly just after this event, so some of its task's partial matches expire and some do
        // not; sometimes far ahead: ended tasks are evicted, every partial expires, gaps declared.
        const at = r < 0.02 ? nowMs + 20 * MIN : timeOf(e) + rand() * 10_000;
        both((x) => x.tick(at));
      }
      if (r > 0.85 || i === swapAt || i === restoreAt) {
        const text = expectSameAsFull(d);
        snapshots++;
        if (rand() < 0.3) expect(d.snapshotJson()).toBe(text); // nothing changed in between
        expectSameJson(text, twin.snapshotJson());
      }
    });
    both((x) => x.flush());
    expectSameAsFull(d);
    both((x) => x.tick(nowMs + 24 * 60 * MIN));
    const endText = expectSameAsFull(d);
    expectSameJson(endText, twin.snapshotJson());
    const end = JSON.parse(endText);
    expect(snapshots).toBeGreaterThan(100);
    // The mix exercised what it is meant to: evictions, gaps, duplicates, conflicts, partials.
    const stats = d.stats();
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.conflicts).toBeGreaterThan(0);
    expect(stats.gaps).toBeGreaterThan(0);
    expect(end.tasks.length).toBeLessThan(new Set(stream.map((e) => e.task_id)).size);
  });

  it('re-renders only what changed since the previous snapshot', () => {
    const d = createDetector({ rules, config, clock: () => 0 });
    const events = generateScenarios({ id: 'inc' }).flatMap((s) => s.events);
    for (const e of events) d.process(e);
    const first = expectSameAsFull(d);
    const after = snapshotRenders(d);
    expect(after.tasks).toBeGreaterThan(20);
    // Nothing changed: every text is reused.
    expect(d.snapshotJson()).toBe(first);
    expect(snapshotRenders(d)).toEqual(after);
    // One more action on one task: that task, its sequence keys and its identity, nothing else.
    const s = new TaskStream({ taskId: 'inc.one', workloadIdentity: 'spiffe://acme/one' }).declared(
      OPS_SCOPE,
    );
    s.action({ tool: 'github.get_file', operation: 'read', resource: 'github:acme/x' });
    const [decl, action] = s.events();
    d.process(decl!);
    expectSameAsFull(d);
    const before = snapshotRenders(d);
    d.process(action!);
    expectSameAsFull(d);
    const delta = snapshotRenders(d);
    expect(delta.tasks - before.tasks).toBe(1);
    expect(delta.credentials - before.credentials).toBe(0);
    expect(delta.identities - before.identities).toBe(1);
    expect(delta.sequenceKeys - before.sequenceKeys).toBeLessThanOrEqual(2);
  });

  it('caches texts beyond ASCII exactly (Latin-1, other planes, escapes)', () => {
    const d = createDetector({ rules, config, clock: () => 0 });
    const s = new TaskStream({ taskId: 'intl', workloadIdentity: 'spiffe://acme/ägent' }).declared(
      OPS_SCOPE,
      {
        intent: 'café — déployer 🚀 "quoted" \\ \u0001',
      },
    );
    s.action({ tool: 'github.get_file', operation: 'read', resource: 'github:acme/infra/ÿ' });
    for (const e of s.events()) d.process(e);
    const text = expectSameAsFull(d);
    expect(JSON.parse(text).tasks[0].intent).toBe('café — déployer 🚀 "quoted" \\ \u0001');
    // The baseline identity's text is Latin-1 only (one-byte copy); the task's is not (two-byte).
    expect(Object.keys(JSON.parse(text).baselines.identities)).toEqual(['acme/spiffe://acme/ägent']);
  });

  it('keeps scope indexes consistent when the tasks that introduced them are evicted', () => {
    const d = createDetector({ rules, config: { ended_task_retention_ms: MIN }, clock: () => 0 });
    const task = (id: string, tool: string, end: boolean, startMs: number) => {
      const s = new TaskStream({ taskId: id, startMs }).declared({ allow: [{ tools: [tool] }] });
      s.action({ tool, operation: 'read' });
      return (end ? s.ended() : s).events();
    };
    const t0 = Date.parse('2026-06-01T09:00:00Z');
    // a and b introduce scopes 0 and 1; c and d share them. Evicting a and b renumbers the scopes,
    // and c's and d's cached texts must not carry the old numbers.
    for (const e of [
      ...task('a', 'x.a', true, t0),
      ...task('b', 'x.b', true, t0),
      ...task('c', 'x.b', false, t0 + 10 * MIN),
      ...task('d', 'x.a', false, t0 + 10 * MIN),
    ])
      d.process(e);
    const before = JSON.parse(expectSameAsFull(d));
    expect(before.scopes).toHaveLength(2);
    d.tick(t0 + 5 * MIN);
    const after = JSON.parse(expectSameAsFull(d));
    expect(after.tasks.map((t: { id: string }) => t.id)).toEqual(['c', 'd']);
    expect(after.tasks.map((t: { scopeRef: number }) => after.scopes[t.scopeRef].allow[0].tools[0])).toEqual([
      'x.b',
      'x.a',
    ]);
  });
});
