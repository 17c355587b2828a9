import type { Page } from '../page.js';

const KIND: Record<Page['status'], string> = {
  firing: 'agenttrail.alert',
  acknowledged: 'agenttrail.alert.acknowledged',
  resolved: 'agenttrail.alert.resolved',
};

/**
 * Generic webhook body (versioned): the alert as in the contract, plus the grouping facts; a
 * follow-up on a responder's change also carries `status_change` (who, why, when).
 */
export function webhookBody(page: Page): Record<string, unknown> {
  const c = page.change;
  return {
    version: 1,
    kind: KIND[page.status],
    delivery_id: page.id,
    ...(c
      ? {
          status_change: { type: c.type, status_id: c.status_id, by: c.by, reason: c.reason, at: c.at },
        }
      : {}),
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
