// One `risk_signals` row (migrations/0009_risk_signals.sql), as written (detector/io/signal-rows.ts)
// and as read back (read/risk-signals.ts); `recorded_at` is the column's default.

export interface RiskSignalRow {
  tenant: string;
  task_id: string;
  event_id: string;
  rule_id: string;
  agent_id: string;
  /** Weight it added to the task's score (0 when its rule had already counted on the task). */
  score: number;
  occurred_at: string;
  explanation: string;
}
