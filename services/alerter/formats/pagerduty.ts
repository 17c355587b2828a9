import type { Severity } from '../../../schemas/alert.js';
import type { Page } from '../page.js';

/** PagerDuty v2 knows four severities; ours map onto them. */
export const PD_SEVERITY: Record<Severity, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

/**
 * Events API v2 body. `dedup_key` is the alert's, so PagerDuty folds repeats into one
 * incident, and an `acknowledge` or `resolve` with the same key acts on that incident.
 */
export function pagerDutyBody(page: Page, routingKey: string): Record<string, unknown> {
  const a = page.alert;
  if (page.status === 'resolved' || page.status === 'acknowledged') {
    const action = page.status === 'resolved' ? 'resolve' : 'acknowledge';
    return { routing_key: routingKey, event_action: action, dedup_key: page.dedup_key };
  }
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: page.dedup_key,
    payload: {
      summary: `${a.title}${page.count > 1 ? ` (×${page.count})` : ''}`.slice(0, 1024),
      source: a.agent_id,
      severity: PD_SEVERITY[a.severity],
      timestamp: a.occurred_at,
      component: a.tenant,
      group: a.task_id,
      class: a.rule_id,
      custom_details: {
        explanation: a.explanation,
        evidence: a.evidence,
        scope_element: a.scope_element,
        alert_ids: page.alert_ids,
        count: page.count,
        total: page.total,
        labels: a.labels,
      },
    },
    ...(page.link ? { links: [{ href: page.link, text: 'Task timeline' }] } : {}),
    client: 'AgentTrail',
  };
}
