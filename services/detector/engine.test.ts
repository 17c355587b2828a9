import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../scenarios/builder.js';
import { generateScenarios } from '../../scenarios/catalogue.js';
import { OPS_SCOPE } from '../../scenarios/fixtures.js';
import type { AgentEvent, Alert, ScopeInput } from '../../schemas/index.js';
import { createDetector, type Detector } from './engine.js';
import { loadDefaultRules } from './rules/default-rules.js';
import { loadRules } from './rules/sequence/load.js';
import { fullSnapshotJsonForTest } from './snapshot/inspect.js';

const rules = loadDefaultRules();
const ids = (alerts: Alert[]) => alerts.map((a) => a.alert_id).sort();
const feed = (d: Detector, events: AgentEvent[]) => [...events.flatMap((e) => d.process(e)), ...d.flush()];
const attacks = generateScenarios({ id: 'e' }).filter((s) => s.kind === 'attack');
const allEvents = attacks.flatMap((s) => s.events);

describe('detector engine: order, duplicates, replay', () => {
  it('alert ids are deterministic across runs', () => {
    const a = feed(createDetector({ rules }), allEvents);
    const b = feed(createDetector({ rules }), allEvents);
    expect(a.length).toBeGreaterThan(20);
    expect(ids(a)).toEqual(ids(b));
  });

  it('out-of-order delivery within the reorder window gives the same alerts', () => {
    const inOrder = feed(createDetector({ rules }), allEvents);
    // Within each task, reverse each adjacent pair: every event arrives one position late or early.
    // (Kafka keys by task, so per-task order is what can break; cross-task order is covered below.)
    const byTask = new Map<string, AgentEvent[]>();
    for (const e of allEvents) byTask.set(e.task_id, [...(byTask.get(e.task_id) ?? []), e]);
    const shuffled = [...byTask.values()].flatMap((evs) => {
      const out = [...evs];
      for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      return out;
    });
    const d = createDetector({ rules });
    const out = feed(d, shuffled);
    expect(ids(out)).toEqual(ids(inOrder));
    expect(d.stats().buffered).toBeGreaterThan(0);
  });

  it('a child acting before its parent delegation is seen is judged undeclared (defined cross-task behaviour)', () => {
    const s = generateScenarios({ id: 'x' }).find((x) => x.name === 'delegation-widening')!;
    const child = s.events.filter((e) => e.task_id.endsWith('.child'));
    const parent = s.events.filter((e) => !e.task_id.endsWith('.child'));
    const fired = feed(createDetector({ rules }), [...child, ...parent]).map((a) => a.rule_id);
    expect(fired).toContain('AT-INT-004');
    expect(fired).not.toContain('AT-DELEG-002');
  });

  it('redelivered events (same event_id) are dropped silently', () => {
    const inOrder = feed(createDetector({ rules }), allEvents);
    const d = createDetector({ rules });
    const twice = feed(
      d,
      allEvents.flatMap((e) => [e, structuredClone(e)]),
    );
    expect(ids(twice)).toEqual(ids(inOrder));
    expect(d.stats().duplicates).toBe(allEvents.length);
  });

  it('a gap that never fills is declared after reorder_timeout_ms by tick()', () => {
    const s = new TaskStream({ taskId: 'gap' }).declared(OPS_SCOPE);
    for (let i = 0; i < 3; i++)
      s.action({ tool: 'github.get_file', operation: 'read', resource: 'github:acme/x' });
    const [e1, , e3, e4] = s.events();
    const d = createDetector({ rules, config: { reorder_timeout_ms: 10_000 } });
    expect([e1!, e3!, e4!].flatMap((e) => d.process(e))).toEqual([]);
    expect(d.tick(Date.parse(e4!.occurred_at) + 1_000)).toEqual([]);
    const late = d.tick(Date.parse(e4!.occurred_at) + 60_000);
    expect(late.map((a) => a.rule_id)).toEqual(['AT-INT-001']);
    expect(late[0]!.evidence).toEqual([e3!.event_id]);
  });

  it('a gap is declared when the reorder buffer overflows, and a late event filling it is not a conflict', () => {
    const s = new TaskStream({ taskId: 'ovf' }).declared(OPS_SCOPE);
    for (let i = 0; i < 6; i++)
      s.action({ tool: 'github.get_file', operation: 'read', resource: 'github:acme/x' });
    const ev = s.events();
    const d = createDetector({ rules, config: { reorder_window_events: 2 } });
    const out = [ev[0]!, ev[2]!, ev[3]!, ev[4]!, ev[1]!].flatMap((e) => d.process(e));
    expect(out.map((a) => a.rule_id)).toEqual(['AT-INT-001']);
    expect(d.stats().late).toBe(1);
    expect(d.stats().conflicts).toBe(0);
  });
});

describe('detector engine: snapshot and restore', () => {
  it('a detector restored from a mid-stream snapshot raises exactly the remaining alerts', () => {
    const full = feed(createDetector({ rules }), allEvents);
    const half = Math.floor(allEvents.length / 2);
    const first = createDetector({ rules });
    const before = allEvents.slice(0, half).flatMap((e) => first.process(e));
    const snap = JSON.parse(JSON.stringify(first.snapshot()));
    const second = createDetector({ rules, snapshot: snap });
    // At-least-once delivery: the consumer replays a few events it had already processed.
    const after = feed(second, allEvents.slice(half - 5));
    expect(ids([...before, ...after])).toEqual(ids(full));
    // Resumed exactly at the snapshot, it stays in step with the uninterrupted detector: the same
    // alerts event by event, and the same snapshot (incremental on both sides) all along.
    const resumed = createDetector({ rules, snapshot: snap });
    allEvents.slice(half).forEach((e, i) => {
      expect(ids(resumed.process(e))).toEqual(ids(first.process(e)));
      if (i % 7 === 0) expect(JSON.parse(resumed.snapshotJson())).toEqual(JSON.parse(first.snapshotJson()));
    });
    expect(ids(resumed.flush())).toEqual(ids(first.flush()));
    expect(JSON.parse(resumed.snapshotJson())).toEqual(JSON.parse(fullSnapshotJsonForTest(first)));
  });

  type ActionData = Parameters<TaskStream['action']>[0];
  const warmCfg = { baselines: { first_use_warmup_actions: 5 } };
  /** A task whose identity is warmed up on fs.read, fed to a detector that is then snapshotted. */
  const warmed = (taskId: string, allow: ScopeInput['allow'], extra: ActionData[] = []) => {
    const s = new TaskStream({ taskId, workloadIdentity: 'spiffe://acme/agent' }).declared({ allow });
    for (let i = 0; i < 5; i++) s.action({ tool: 'fs.read', operation: 'read' });
    for (const x of extra) s.action(x);
    const a = createDetector({ rules, config: warmCfg });
    const before = feed(a, s.events());
    const next = (data: ActionData) => s.action(data).events().at(-1)!;
    return { s, a, before, next };
  };

  it('baselines survive a restart', () => {
    const { a, next } = warmed('b', [{ tools: ['**'] }]);
    const b = createDetector({ rules, config: warmCfg, snapshot: a.snapshot() });
    const e = next({ tool: 'shell.exec', operation: 'execute' });
    // A first use is a risk signal on the task, not a page: the restored baseline still knows
    // fs.read (no signal for it) and sees shell.exec as new.
    expect(b.process(e)).toEqual([]);
    const risk = b.state.tasks.get('acme')?.get('b')?.risk;
    expect(risk?.signals.map((x) => [x.rule, x.event])).toEqual([['AT-BASE-002', e.event_id]]);
  });

  it("a task's risk signals survive a restart and ride on its next alert", () => {
    const { s, a, before, next } = warmed(
      'r',
      [{ tools: ['fs.read', 'fs.list'], operations: ['read'] }],
      [{ tool: 'fs.list', operation: 'read' }],
    );
    expect(before).toEqual([]);
    const firstUse = s.events().at(-1)!.event_id;
    const b = createDetector({ rules, config: warmCfg, snapshot: JSON.parse(a.snapshotJson()) });
    expect(JSON.parse(b.snapshotJson())).toEqual(JSON.parse(a.snapshotJson()));
    const [alert, ...rest] = b.process(next({ tool: 'fs.list', operation: 'delete' }));
    expect(rest).toEqual([]);
    expect(alert?.rule_id).toBe('AT-SCOPE-002');
    expect(alert?.risk_signals?.map((x) => [x.rule_id, x.event_id])).toEqual([['AT-BASE-002', firstUse]]);
    expect(alert?.risk_score).toBe(2);
  });

  it('a snapshot whose tasks carry no `risk` (as before risk signals) restores and keeps working', () => {
    const { a, next } = warmed('old', [{ tools: ['fs.read'] }]);
    const snap = a.snapshot();
    for (const t of snap.tasks) expect(t).not.toHaveProperty('risk');
    const b = createDetector({ rules, config: warmCfg, snapshot: snap });
    const out = b.process(next({ tool: 'shell.exec', operation: 'execute' }));
    expect(out.map((x) => x.rule_id)).toEqual(['AT-SCOPE-001']);
    expect(out[0]?.risk_signals?.map((x) => x.rule_id)).toEqual(['AT-BASE-002']);
  });
});

describe('detector engine: bounded state', () => {
  const ended = (taskId: string) => {
    const s = new TaskStream({ taskId });
    s.declared(OPS_SCOPE, { intent: 'read the infra repo', by: 'alice@acme.example' });
    s.action({ tool: 'github.get_file', operation: 'read', resource: 'github:acme/infra/README.md' });
    return { events: s.ended().events(), lastMs: s.timeMs };
  };
  const taskCount = (d: Detector) => [...d.state.tasks.values()].reduce((n, m) => n + m.size, 0);

  it('drops an ended task once the retention has passed, and not before', () => {
    const d = createDetector({ rules, config: { ended_task_retention_ms: 60_000 } });
    const { events, lastMs } = ended('t-end');
    feed(d, events);
    d.tick(lastMs + 59_000);
    expect(taskCount(d)).toBe(1);
    d.tick(lastMs + 61_000);
    expect(taskCount(d)).toBe(0);
  });

  it('writes each shared scope once in a snapshot, and restores it', () => {
    const d = createDetector({ rules });
    for (const id of ['s1', 's2', 's3']) feed(d, ended(id).events);
    const snap = JSON.parse(d.snapshotJson());
    expect(snap.tasks).toHaveLength(3);
    expect(snap.scopes).toHaveLength(1);
    const restored = createDetector({ rules, snapshot: snap });
    const scopes = [...restored.state.tasks.values()].flatMap((m) => [...m.values()].map((t) => t.scope));
    expect(scopes[0]).toBeDefined();
    expect(new Set(scopes).size).toBe(1);
  });
});

describe('detector engine: rules reload', () => {
  const twoStep = (id: string, tool: string) =>
    loadRules([
      {
        name: 'r.yaml',
        text: `- rule:\n    id: ${id}\n    name: r\n    title: t\n    description: d\n    severity: low\n    explanation: x\n    sequence:\n      within: 1h\n      steps:\n        - name: a\n          when: { field: data.tool, equals: ${tool} }\n        - name: b\n          when: { field: data.tool, equals: fs.write }\n`,
      },
    ]).ruleSet!;

  function stream() {
    return new TaskStream({ taskId: 'rl' })
      .declared({ allow: [{ tools: ['**'] }] })
      .action({ tool: 'fs.read', operation: 'read' })
      .action({ tool: 'fs.write', operation: 'write' })
      .events();
  }

  it('keeps pending matches of unchanged rules across setRules', () => {
    const [decl, read, write] = stream();
    const d = createDetector({ rules: twoStep('AT-SEQ-950', 'fs.read') });
    d.process(decl!);
    d.process(read!);
    d.setRules(twoStep('AT-SEQ-950', 'fs.read'));
    expect(d.process(write!).map((a) => a.rule_id)).toContain('AT-SEQ-950');
  });

  it('drops pending matches of a rule whose definition changed', () => {
    const [decl, read, write] = stream();
    const d = createDetector({ rules: twoStep('AT-SEQ-950', 'fs.read') });
    d.process(decl!);
    d.process(read!);
    d.setRules(twoStep('AT-SEQ-950', 'fs.list'));
    expect(d.process(write!).map((a) => a.rule_id)).not.toContain('AT-SEQ-950');
  });

  it('bounds pending partial matches per key and counts the overflow', () => {
    const s = new TaskStream({ taskId: 'cap' }).declared({ allow: [{ tools: ['**'] }] });
    for (let i = 0; i < 10; i++) s.action({ tool: 'fs.read', operation: 'read' });
    s.action({ tool: 'fs.write', operation: 'write' });
    const d = createDetector({
      rules: twoStep('AT-SEQ-951', 'fs.read'),
      config: { max_partials_per_key: 4 },
    });
    const out = feed(d, s.events()).filter((a) => a.rule_id === 'AT-SEQ-951');
    expect(out).toHaveLength(4); // every overlapping match that is still pending is reported
    expect(d.stats().partialOverflow).toBe(6);
  });
});

describe('detector engine: clock skew', () => {
  function credentialUse(useAfterMs: number, receiveDelayMs: number) {
    const s = new TaskStream({ taskId: `sk${useAfterMs}` })
      .declared(OPS_SCOPE)
      .credential('c', 60_000)
      .wait(useAfterMs)
      .action(
        { tool: 'github.get_file', operation: 'read', resource: 'github:acme/x', credential_id: 'c' },
        { receivedAtMs: 0 },
      );
    const events = s.events();
    const last = events.at(-1)!;
    last.received_at = new Date(Date.parse(last.occurred_at) + receiveDelayMs).toISOString();
    return events;
  }

  it.each([
    ['inside the skew allowance', 60_000 + 60_000, 0, []],
    ['beyond the allowance', 60_000 + 200_000, 0, ['AT-CRED-001']],
    ['agent clock claims it was in time, gateway saw it 20 min later', 30_000, 1_200_000, ['AT-INT-005']],
  ] as const)('%s', (_, after, delay, want) => {
    const d = createDetector({ rules });
    // received_at is outside the hash chain, so editing it does not break the chain.
    expect(feed(d, credentialUse(after, delay)).map((a) => a.rule_id)).toEqual(want);
  });
});

describe('detector engine: the gateway hash verdict', () => {
  // The tampered-record scenario: the last event's content no longer matches its hash.
  const tampered = generateScenarios({ id: 'hv' }).find((s) => s.intended.includes('AT-INT-002'))!.events;
  const chainAlerts = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === 'AT-INT-002');
  const run = (verdict: (e: AgentEvent, i: number) => 'ok' | 'mismatch' | undefined, trust = true) => {
    const d = createDetector({ rules, config: { trust_hash_check: trust } });
    return chainAlerts([...tampered.flatMap((e, i) => d.process(e, verdict(e, i))), ...d.flush()]);
  };
  const last = tampered.length - 1;

  it('recomputes the hash when an event carries no verdict', () => {
    expect(run(() => undefined)).toHaveLength(1);
  });
  it('takes the verdict instead of recomputing when there is one', () => {
    expect(run((_e, i) => (i === last ? 'mismatch' : 'ok'))).toHaveLength(1);
    // A stamped "ok" is believed: the detector no longer hashes that event itself.
    expect(run(() => 'ok')).toHaveLength(0);
    expect(run((_e, i) => (i === 0 ? 'mismatch' : 'ok'))[0]?.evidence).toEqual([tampered[0]!.event_id]);
  });
  it('recomputes regardless of the verdict when trust_hash_check is off', () => {
    expect(run(() => 'ok', false)).toHaveLength(1);
  });
  it('keeps the verdict of an event held in the reorder buffer', () => {
    const d = createDetector({ rules });
    const [first, ...rest] = tampered;
    const out = [...rest.flatMap((e, i) => d.process(e, i === rest.length - 1 ? 'mismatch' : 'ok'))];
    out.push(...d.process(first!, 'ok'), ...d.flush());
    // The last event was buffered behind the missing first one, and still judged by its verdict.
    expect(chainAlerts(out)).toHaveLength(1);
    expect(d.stats().buffered).toBeGreaterThan(0);
  });
});
