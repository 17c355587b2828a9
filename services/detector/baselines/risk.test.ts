import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../../scenarios/builder.js';
import type { AgentEvent, Alert } from '../../../schemas/index.js';
import { decodeAlert } from '../../alerter/consume.js';
import { RiskConfig } from '../config.js';
import { createDetector } from '../engine.js';
import { loadDefaultRules } from '../rules/default-rules.js';
import type { BaselineFinding } from './baselines.js';
import { combineSignals, pageScore, recordSignals, settleRisk, type TaskSignal } from './risk.js';

const cfg = (input: Partial<RiskConfig> = {}) => RiskConfig.parse(input);
const finding = (rule: BaselineFinding['rule']): BaselineFinding => ({ rule, vars: {} });
const ev = (n: number) => ({ event_id: `e${n}`, occurred_at: new Date(n * 1000).toISOString() });
const text = (f: BaselineFinding) => `${f.rule} seen`;

describe('risk signals (pure)', () => {
  it('each rule adds its weight once per task by default; every signal is kept', () => {
    const c = cfg();
    let r = recordSignals(undefined, [finding('AT-BASE-003')], ev(1), 1000, c, text);
    r = recordSignals(r, [finding('AT-BASE-003'), finding('AT-BASE-002')], ev(2), 2000, c, text);
    expect(r.score).toBe(4);
    expect(r.signals.map((s) => [s.rule, s.score])).toEqual([
      ['AT-BASE-003', 2],
      ['AT-BASE-003', 0],
      ['AT-BASE-002', 2],
    ]);
    expect(settleRisk(r, undefined, 'acme', 2000, c)).toBe(false);
  });

  it('repeat_signals_score: every signal adds its weight', () => {
    const c = cfg({ repeat_signals_score: true });
    const r = recordSignals(
      undefined,
      [finding('AT-BASE-003'), finding('AT-BASE-003'), finding('AT-BASE-003')],
      ev(1),
      1000,
      c,
      text,
    );
    expect(r.score).toBe(6);
    expect(settleRisk(r, undefined, 'acme', 1000, c)).toBe(true);
  });

  it('pages once per task, at the tenant page_score', () => {
    const c = cfg({ tenants: { strict: { page_score: 2 } } });
    expect(pageScore(c, 'strict')).toBe(2);
    expect(pageScore(c, 'acme')).toBe(5);
    const strict = recordSignals(undefined, [finding('AT-BASE-002')], ev(1), 1000, c, text);
    const other = recordSignals(undefined, [finding('AT-BASE-002')], ev(1), 1000, c, text);
    expect(settleRisk(other, undefined, 'acme', 1000, c)).toBe(false);
    expect(settleRisk(strict, undefined, 'strict', 1000, c)).toBe(true);
    recordSignals(strict, [finding('AT-BASE-001')], ev(2), 2000, c, text);
    expect(settleRisk(strict, undefined, 'strict', 2000, c)).toBe(false);
  });

  it('another alert within the window takes the signals as context and holds back the accumulated page', () => {
    const c = cfg({ combine_window_ms: 10_000 });
    let r = recordSignals(undefined, [finding('AT-BASE-002')], ev(1), 1000, c, text);
    expect(combineSignals(r, 11_000, c).map((s) => s.event)).toEqual(['e1']);
    expect(combineSignals(r, 11_001, c)).toEqual([]);
    const lastAlertMs = 11_000;
    r = recordSignals(r, [finding('AT-BASE-001')], ev(15), 15_000, c, text);
    expect(r.score).toBe(5);
    expect(settleRisk(r, lastAlertMs, 'acme', 15_000, c)).toBe(false); // the alert at 11 s paged the task
    r = recordSignals(r, [finding('AT-BASE-004')], ev(30), 30_000, c, text);
    expect(settleRisk(r, lastAlertMs, 'acme', 30_000, c)).toBe(true); // alone again, past the window
  });

  it('bounded: over max_signals_per_task the oldest signal that added nothing goes first', () => {
    const c = cfg({ max_signals_per_task: 3 });
    let r = recordSignals(undefined, [finding('AT-BASE-002')], ev(1), 1000, c, text);
    for (let i = 2; i < 10; i++) r = recordSignals(r, [finding('AT-BASE-003')], ev(i), i * 1000, c, text);
    expect(r.signals.map((s) => s.event)).toEqual(['e1', 'e2', 'e9']);
    expect(r.score).toBe(4);
  });
});

describe('risk signals in one shared detector', () => {
  const rules = loadDefaultRules();
  const identity = 'spiffe://acme/shared';
  /** A benign task: reads in scope, on tools and resource classes of its own. */
  const benign = (id: string, n: number) => {
    const s = new TaskStream({
      taskId: id,
      workloadIdentity: identity,
      startMs: Date.UTC(2026, 0, 1) + n * 60_000,
    });
    s.declared({ allow: [{ operations: ['read'] }] });
    for (let k = 0; k < 4; k++)
      s.action({ tool: `t${n}.tool${k}`, operation: 'read', resource: `c${n}-${k}:x/y` });
    return s.events();
  };
  const runs = Array.from({ length: 120 }, (_, n) => benign(`task-${n}`, n));
  const paged = (alerts: Alert[]) => new Set(alerts.map((a) => a.task_id));
  const feed = (events: AgentEvent[]) => {
    const d = createDetector({ rules, config: { baselines: { first_use_warmup_actions: 50 } } });
    return [...events.flatMap((e) => d.process(e)), ...d.flush()];
  };

  it('a detector that has seen more pages no more: first uses of benign tasks never page alone', () => {
    // Every task after the warm-up is all first uses (4 tools, 4 resource classes): signals, no page.
    const shared = feed(runs.flat());
    expect(paged(shared).size).toBe(0);
    // Each task alone in a fresh detector: no history, no signals, no pages either.
    for (const r of runs.slice(0, 10)) expect(feed(r)).toEqual([]);
  });

  it('onSignal is told every signal recorded, with its task, also those that never page or combine', () => {
    const told: TaskSignal[] = [];
    const d = createDetector({
      rules,
      config: { baselines: { first_use_warmup_actions: 50 } },
      onSignal: (x) => told.push(x),
    });
    const events = runs.slice(0, 20).flat();
    const alerts = [...events.flatMap((e) => d.process(e)), ...d.flush()];
    expect(alerts).toEqual([]);
    // The warm-up takes the first 50 actions (12 tasks and a half); every later task's actions
    // are first uses of their tool and of their resource class.
    const late = told.filter((x) => x.task_id === 'task-19');
    expect(late.map((x) => [x.rule_id, x.score])).toEqual(
      expect.arrayContaining([
        ['AT-BASE-002', 2],
        ['AT-BASE-003', 2],
      ]),
    );
    const lastTask = events.filter((e) => e.task_id === 'task-19');
    for (const x of late) {
      expect(x.tenant).toBe(lastTask[0]!.tenant);
      expect(x.agent_id).toBe(lastTask[0]!.agent.id);
      expect(lastTask.map((e) => e.event_id)).toContain(x.event_id);
      expect(x.explanation.length).toBeGreaterThan(0);
    }
    // Nothing before the warm-up ended.
    expect(told.some((x) => x.task_id === 'task-0')).toBe(false);
    // The same as the signals kept on the task (the first score of each rule counted).
    const kept = d.state.tasks.get(lastTask[0]!.tenant)?.get('task-19')?.risk?.signals;
    expect(kept?.map((k) => [k.event, k.rule])).toEqual(late.map((x) => [x.event_id, x.rule_id]));
  });

  it('with a score per signal (repeat_signals_score) the same shared detector would page them', () => {
    const d = createDetector({
      rules,
      config: { baselines: { first_use_warmup_actions: 50, risk: { repeat_signals_score: true } } },
    });
    const alerts = runs.flat().flatMap((e) => d.process(e));
    // The first ~12 tasks (50 actions) are the warm-up; every later one pages AT-BASE-005.
    expect(alerts.every((a) => a.rule_id === 'AT-BASE-005')).toBe(true);
    expect(paged(alerts).size).toBeGreaterThan(100);
  });
});

describe('risk signals on the wire', () => {
  it("the alerter's decoder takes an alert carrying risk signals as the detector built it", () => {
    const s = new TaskStream({ taskId: 'wire', workloadIdentity: 'spiffe://acme/agent' }).declared({
      allow: [{ tools: ['fs.read'] }],
    });
    for (let i = 0; i < 3; i++) s.action({ tool: 'fs.read', operation: 'read' });
    s.action({ tool: 'shell.exec', operation: 'execute' });
    const d = createDetector({
      rules: loadDefaultRules(),
      config: { baselines: { first_use_warmup_actions: 3 } },
    });
    const [alert] = s.events().flatMap((e) => d.process(e));
    expect(alert?.risk_signals?.map((x) => x.rule_id)).toEqual(['AT-BASE-002']);
    const wire = JSON.parse(JSON.stringify(alert));
    expect(decodeAlert(wire)).toEqual({ success: true, data: { alert: wire } });
  });
});
