import type { RiskSignal } from '../../../schemas/index.js';
import type { RiskConfig } from '../config.js';
import type { RiskSignalState, TaskRisk } from '../state/types.js';
import type { BaselineFinding } from './baselines.js';

// Baseline findings as risk signals on their task. A first use of a tool, a new resource class, a
// rate or fan-out outlier says little alone and much beside a scope violation, so none of them
// pages by itself. Each is kept on the task (bounded) with its weight added to the task's score:
// - another alert of the task raised within `combine_window_ms` after a signal carries it as
//   context (`risk_signals` on that alert);
// - alone, the signals page only as AT-BASE-005, once per task, when the score reaches the
//   tenant's `page_score` and no other alert of the task was raised within the window before
//   (then the signals already rode on that page).
// By default each rule adds its weight once per task: the score depends on which kinds of
// anomaly the task showed, not on how much history the detector has seen. Pure: the engine
// calls these with the task's state and stores what they return.

export const ACCUMULATED_RISK_RULE = 'AT-BASE-005';

/** The rules whose findings are signals (each has a weight). */
export type SignalRule = keyof RiskConfig['weights'];

export function isSignalRule(ruleId: string): boolean {
  return ruleId.startsWith('AT-BASE-');
}

export function pageScore(cfg: RiskConfig, tenant: string): number {
  return cfg.tenants[tenant]?.page_score ?? cfg.page_score;
}

function emptyRisk(): TaskRisk {
  return { score: 0, signals: [], counted: [] };
}

/**
 * Keep one action's findings on its task and add their weights; `text` renders a finding's
 * explanation. Returns the task's risk (created when absent).
 */
export function recordSignals(
  risk: TaskRisk | undefined,
  findings: readonly BaselineFinding[],
  event: { event_id: string; occurred_at: string },
  atMs: number,
  cfg: RiskConfig,
  text: (f: BaselineFinding) => string,
  onRecorded?: (s: RiskSignalState) => void,
): TaskRisk {
  const r = risk ?? emptyRisk();
  for (const f of findings) {
    let score = cfg.weights[f.rule];
    if (!cfg.repeat_signals_score) {
      if (r.counted.includes(f.rule)) score = 0;
      else r.counted.push(f.rule);
    }
    r.score += score;
    const signal: RiskSignalState = {
      rule: f.rule,
      score,
      event: event.event_id,
      at: event.occurred_at,
      atMs,
      text: text(f),
    };
    r.signals.push(signal);
    onRecorded?.(signal);
    if (r.signals.length > cfg.max_signals_per_task) {
      // Drop the oldest that added nothing, so the signals that made the score stay visible.
      const i = r.signals.findIndex((s) => s.score === 0);
      r.signals.splice(i >= 0 ? i : 0, 1);
    }
  }
  return r;
}

/** The task's signals an alert of another rule raised at `atMs` carries as context. */
export function combineSignals(risk: TaskRisk | undefined, atMs: number, cfg: RiskConfig): RiskSignalState[] {
  if (risk === undefined) return [];
  return risk.signals.filter((s) => atMs - s.atMs <= cfg.combine_window_ms);
}

/**
 * After an action added signals: true when they now page on their own (AT-BASE-005). Marks the
 * task as paged, so it pages once. `lastAlertMs`: event time of the task's latest other alert.
 */
export function settleRisk(
  risk: TaskRisk,
  lastAlertMs: number | undefined,
  tenant: string,
  atMs: number,
  cfg: RiskConfig,
): boolean {
  if (risk.paged || risk.score < pageScore(cfg, tenant)) return false;
  if (lastAlertMs !== undefined && atMs - lastAlertMs <= cfg.combine_window_ms) return false;
  risk.paged = true;
  return true;
}

/**
 * A signal with the task it was recorded on: what the service stores (`risk_signals` table), so
 * the timeline shows a task's signals even when none rode on an alert.
 */
export interface TaskSignal extends RiskSignal {
  tenant: string;
  task_id: string;
  agent_id: string;
}

/** A kept signal as the alert contract has it. */
export function toRiskSignal(s: RiskSignalState): RiskSignal {
  return { rule_id: s.rule, score: s.score, event_id: s.event, occurred_at: s.at, explanation: s.text };
}
