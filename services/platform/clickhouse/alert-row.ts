// One `alerts` row (migrations/0002_alerts.sql), as written (detector/io/alert-rows.ts)
// and as read back (read/alerts.ts). Optional alert fields are NULL.

export interface AlertRow {
  alert_id: string;
  rule_id: string;
  severity: string;
  title: string;
  explanation: string;
  tenant: string;
  task_id: string;
  agent_id: string;
  workload_identity: string | null;
  evidence: string[];
  scope_element: string | null;
  /** Named tuples (framework, id, name), as JSON objects. */
  frameworks: Array<{ framework: string; id: string; name: string | null }>;
  dedup_key: string;
  occurred_at: string;
  created_at: string;
  status: string;
  labels: Record<string, string>;
  link: string | null;
  /** The task's risk score when raised (migrations/0008), or NULL. */
  risk_score: number | null;
  /** JSON text of the alert's risk signals, '' when none. */
  risk_signals: string;
}
