import type { Alert } from '../../../schemas/alert.js';

// Alert → `alerts` row (platform/clickhouse/migrations/0002_alerts.sql). Optional fields become
// NULL; `updated_at` is left to the column default.

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
}

export function toAlertRow(a: Alert): AlertRow {
  return {
    alert_id: a.alert_id,
    rule_id: a.rule_id,
    severity: a.severity,
    title: a.title,
    explanation: a.explanation,
    tenant: a.tenant,
    task_id: a.task_id,
    agent_id: a.agent_id,
    workload_identity: a.workload_identity ?? null,
    evidence: a.evidence,
    scope_element: a.scope_element ?? null,
    frameworks: a.frameworks.map((f) => ({ framework: f.framework, id: f.id, name: f.name ?? null })),
    dedup_key: a.dedup_key,
    occurred_at: a.occurred_at,
    created_at: a.created_at,
    status: a.status,
    labels: a.labels,
    link: a.link ?? null,
  };
}
