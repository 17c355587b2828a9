import { createHash } from 'node:crypto';
import type { Alert } from '../../schemas/alert.js';
import type { AlertStatusRecord } from '../../schemas/alert-status.js';
import { timelineLink as taskTimelineLink } from '../platform/timeline-link.js';

/** A page about an alert (firing or resolved), or a follow-up on a responder's status change. */
export type PageStatus = Alert['status'] | 'acknowledged';

export function pageStatusOf(change: AlertStatusRecord): PageStatus {
  return change.type === 'alert.acknowledged' ? 'acknowledged' : 'resolved';
}

/**
 * One notification to one destination: the alerts grouped under one dedup key. `alert` is the
 * latest of them and is what the page shows; `count` is how many alerts this page stands for.
 */
export interface Page {
  /** Stable id: the same group re-sent after a restart carries the same id, so receivers can dedupe. */
  id: string;
  destination: string;
  dedup_key: string;
  status: PageStatus;
  alert: Alert;
  alert_ids: string[];
  /**
   * What the delivery log records this page under: the alert ids for a page, the status ids for
   * a follow-up (an alert's page and its resolve are separate deliveries). Absent: alert_ids.
   */
  record_ids?: string[];
  /** The responder's change (who, why, when) that this follow-up reports; the latest of them. */
  change?: AlertStatusRecord;
  count: number;
  /** 1 for the first page of a group, 2+ for follow-ups within the group interval. */
  sequence: number;
  /** Alerts in this group across all its pages so far (count included). */
  total: number;
  first_seen: string;
  last_seen: string;
  /** Link to the task timeline, when one is known. */
  link?: string;
}

export function pageId(destination: string, dedupKey: string, firstAlertId: string): string {
  return createHash('sha256')
    .update(`${destination}\u0000${dedupKey}\u0000${firstAlertId}`)
    .digest('hex')
    .slice(0, 32);
}

/** The alert's own link when the detector set one, else the same format from the alerter's base. */
export function timelineLink(alert: Alert, baseUrl: string | undefined): string | undefined {
  if (alert.link) return alert.link;
  return baseUrl ? taskTimelineLink(baseUrl, alert.tenant, alert.task_id) : undefined;
}
