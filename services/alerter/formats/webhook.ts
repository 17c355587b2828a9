import type { Page } from '../page.js';

/** Generic webhook body (versioned): the alert as in the contract, plus the grouping facts. */
export function webhookBody(page: Page): Record<string, unknown> {
  return {
    version: 1,
    kind: page.status === 'resolved' ? 'agenttrail.alert.resolved' : 'agenttrail.alert',
    delivery_id: page.id,
    group: {
      dedup_key: page.dedup_key,
      count: page.count,
      total: page.total,
      sequence: page.sequence,
      first_seen: page.first_seen,
      last_seen: page.last_seen,
      alert_ids: page.alert_ids,
    },
    alert: { ...page.alert, ...(page.link ? { link: page.link } : {}) },
  };
}
