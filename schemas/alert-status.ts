import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Alert } from './alert.js';
import { Id, Tenant, UtcTimestamp } from './common.js';

// An alert's status history: append-only records, one per change a responder makes. An alert
// is `firing` until acknowledged, and stays `resolved` once resolved. Each (alert, type) has one
// deterministic status_id, so a repeated or replayed acknowledge/resolve is the same record.

export const AlertStatusType = z.enum(['alert.acknowledged', 'alert.resolved']);
export type AlertStatusType = z.infer<typeof AlertStatusType>;

/** The current status of an alert, derived from its row and its status history. */
export const AlertCurrentStatus = z.enum(['firing', 'acknowledged', 'resolved']);
export type AlertCurrentStatus = z.infer<typeof AlertCurrentStatus>;

/** Who made the change: the API key (never its secret) and the role it had. */
export const AlertStatusActor = z.strictObject({
  key_id: Id,
  role: z.enum(['analyst', 'responder', 'admin']),
});
export type AlertStatusActor = z.infer<typeof AlertStatusActor>;

export const ALERT_STATUS_REASON_MAX = 1024;

/** Why, in a responder's words: required, bounded, and text ClickHouse can store (no lone surrogates). */
export const AlertStatusReason = z
  .string()
  .min(1)
  .max(ALERT_STATUS_REASON_MAX)
  .refine((s) => s.trim().length > 0, 'must say why (not empty)')
  .refine((s) => s.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');

export const AlertStatusRecord = z.strictObject({
  type: AlertStatusType,
  /** alertStatusId(tenant, alert_id, type): the same change twice is one record. */
  status_id: z.string().regex(/^[0-9a-f]{32}$/),
  alert_id: z.string().regex(/^[0-9a-f]{32}$/),
  tenant: Tenant,
  /** The alert's dedup key: what PagerDuty acknowledges or resolves. */
  dedup_key: z.string().min(1).max(256),
  by: AlertStatusActor,
  reason: AlertStatusReason,
  at: UtcTimestamp,
});
export type AlertStatusRecord = z.infer<typeof AlertStatusRecord>;

/**
 * A status record as produced to the status topic: with the alert it is about (as stored), so the
 * alerter routes and formats the follow-up exactly as it did the page, without reading the table.
 */
export const AlertStatusMessage = AlertStatusRecord.extend({ alert: Alert });
export type AlertStatusMessage = z.infer<typeof AlertStatusMessage>;

export function alertStatusId(tenant: string, alertId: string, type: AlertStatusType): string {
  return createHash('sha256').update(`${tenant}\u0000${alertId}\u0000${type}`).digest('hex').slice(0, 32);
}

/**
 * Resolved wins (from the history or the alert row), then acknowledged, else firing. The row
 * counts too: an alert can arrive resolved from the detector, with no history at all.
 */
export function currentAlertStatus(
  rowStatus: string,
  history: ReadonlyArray<{ type: AlertStatusType | string }>,
): AlertCurrentStatus {
  if (rowStatus === 'resolved' || history.some((r) => r.type === 'alert.resolved')) return 'resolved';
  if (history.some((r) => r.type === 'alert.acknowledged')) return 'acknowledged';
  return 'firing';
}
