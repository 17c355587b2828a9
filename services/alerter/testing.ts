import { createHash } from 'node:crypto';
import { Alert, type AlertInput } from '../../schemas/alert.js';

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
