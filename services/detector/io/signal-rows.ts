import type { RiskSignalRow } from '../../platform/clickhouse/risk-signal-row.js';
import type { TaskSignal } from '../baselines/risk.js';

// TaskSignal → `risk_signals` row (platform/clickhouse/migrations/0009_risk_signals.sql);
// `recorded_at` is left to the column default.

export function toRiskSignalRow(s: TaskSignal): RiskSignalRow {
  return {
    tenant: s.tenant,
    task_id: s.task_id,
    event_id: s.event_id,
    rule_id: s.rule_id,
    agent_id: s.agent_id,
    score: s.score,
    occurred_at: s.occurred_at,
    explanation: s.explanation,
  };
}

/** A signal's key in the table: a replay records the same key again. */
export function riskSignalKey(s: TaskSignal): string {
  return `${s.tenant}/${s.task_id}/${s.event_id}/${s.rule_id}`;
}

/** Signals the engine told (its `onSignal`), held until the consume loop hands them to the publisher. */
export class SignalBuffer {
  private held: TaskSignal[] = [];
  readonly push = (s: TaskSignal): void => {
    this.held.push(s);
  };
  take(): TaskSignal[] {
    const out = this.held;
    this.held = [];
    return out;
  }
}
