import { createHash } from 'node:crypto';
import { Alert, type AlertInput } from '../../schemas/alert.js';
import { AlertStatusRecord, type AlertStatusType, alertStatusId } from '../../schemas/alert-status.js';

// A valid alert for tests (unit and integration); override what a test cares about.
let n = 0;
export function makeAlert(over: Partial<AlertInput> = {}): Alert {
  n++;
  const now = new Date().toISOString();
  return Alert.parse({
    alert_id: createHash('md5').update(`alert-${process.pid}-${n}-${Math.random()}`).digest('hex'),
    rule_id: 'scope.egress.out_of_scope',
    severity: 'high',
    title: 'Egress to an undeclared destination',
    explanation: 'The task declared egress to api.github.com only; the agent sent data to paste.example.',
    tenant: 'acme',
    task_id: 'task-1',
    agent_id: 'agent-7',
    evidence: ['evt-1', 'evt-2'],
    dedup_key: `dk-${n}`,
    occurred_at: now,
    created_at: now,
    ...over,
  });
}

/** A responder's status change of `alert`, as the API records it. */
export function makeStatus(
  alert: Alert,
  type: AlertStatusType = 'alert.resolved',
  over: Partial<AlertStatusRecord> = {},
): AlertStatusRecord {
  return AlertStatusRecord.parse({
    type,
    status_id: alertStatusId(alert.tenant, alert.alert_id, type),
    alert_id: alert.alert_id,
    tenant: alert.tenant,
    dedup_key: alert.dedup_key,
    by: { key_id: 'key-1', role: 'responder' },
    reason: 'credential revoked',
    at: new Date().toISOString(),
    ...over,
  });
}
