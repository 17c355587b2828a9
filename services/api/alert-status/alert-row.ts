import { Alert } from '../../../schemas/alert.js';
import { fromClickHouseTime } from '../../platform/clickhouse/event-row.js';
import type { StoredAlertRow } from '../../platform/clickhouse/read/index.js';

// A stored `alerts` row back to the Alert contract, for the status message: the alerter routes
// and formats a follow-up from it exactly as it did the page. NULL columns were absent fields.

export function alertFromRow(r: StoredAlertRow): Alert {
  return Alert.parse({
    alert_id: r.alert_id,
    rule_id: r.rule_id,
    severity: r.severity,
    title: r.title,
    explanation: r.explanation,
    tenant: r.tenant,
    task_id: r.task_id,
    agent_id: r.agent_id,
    ...(r.workload_identity !== null ? { workload_identity: r.workload_identity } : {}),
    evidence: r.evidence,
    ...(r.scope_element !== null ? { scope_element: r.scope_element } : {}),
    frameworks: r.frameworks.map((f) => ({
      framework: f.framework,
      id: f.id,
      ...(f.name !== null ? { name: f.name } : {}),
    })),
    dedup_key: r.dedup_key,
    occurred_at: fromClickHouseTime(r.occurred_at),
    created_at: fromClickHouseTime(r.created_at),
    status: r.status,
    labels: r.labels,
    ...(r.link !== null ? { link: r.link } : {}),
  });
}
