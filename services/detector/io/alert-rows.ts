import type { Alert } from '../../../schemas/alert.js';
import type { AlertRow } from '../../platform/clickhouse/alert-row.js';

export type { AlertRow };

// Alert → `alerts` row (platform/clickhouse/migrations/0002_alerts.sql). Optional fields become
// NULL; `updated_at` is left to the column default.

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
    risk_score: a.risk_score ?? null,
    risk_signals:
      a.risk_signals === undefined || a.risk_signals.length === 0 ? '' : JSON.stringify(a.risk_signals),
  };
}
