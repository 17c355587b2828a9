import { z } from 'zod';
import { Id, ShortText, Tenant, Text, Timestamp } from './common.js';

export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** A reference into a public framework: OWASP Agentic Top 10, OWASP NHI Top 10, MITRE ATLAS. */
export const FrameworkRef = z.strictObject({
  framework: z.enum(['owasp-agentic-2026', 'owasp-nhi-2025', 'mitre-atlas']),
  id: z.string().min(1).max(32),
  name: ShortText.optional(),
});
export type FrameworkRef = z.infer<typeof FrameworkRef>;

/**
 * A baseline finding (rate outlier, first use of a tool or resource class, fan-out) kept on its task
 * as a risk signal: it says little alone, so it pages only beside another finding on the task or
 * when the task's accumulated risk passes its tenant's threshold (then as `AT-BASE-005`).
 */
export const RiskSignal = z.strictObject({
  /** The baseline rule that observed it, e.g. `AT-BASE-002`. */
  rule_id: z.string().min(1).max(128),
  /** Its weight in the task's risk score. */
  score: z.number().nonnegative().max(1000),
  /** The action it was observed on, and when that action occurred. */
  event_id: Id,
  occurred_at: Timestamp,
  /** What was unusual, in words (the rule's explanation for that action). */
  explanation: ShortText,
});
export type RiskSignal = z.infer<typeof RiskSignal>;

export const Alert = z.strictObject({
  /** Deterministic: derived from rule id, task id and evidence, so a replay cannot double-alert. */
  alert_id: z.string().regex(/^[0-9a-f]{32}$/),
  rule_id: z.string().min(1).max(128),
  severity: Severity,
  title: ShortText,
  /** Plain explanation naming the declared scope element and the action that broke it. */
  explanation: Text,
  tenant: Tenant,
  task_id: Id,
  agent_id: Id,
  workload_identity: ShortText.optional(),
  /** Event ids, in order, that make the case. The last one triggered the alert. */
  evidence: z.array(Id).min(1).max(64),
  /** The declared scope element that was violated, e.g. `scope.egress`, `scope.approvals`. */
  scope_element: ShortText.optional(),
  frameworks: z.array(FrameworkRef).max(16).default([]),
  /** Alerts with the same key page once per grouping window. */
  dedup_key: z.string().min(1).max(256),
  /** When the triggering event occurred, and when the alert was raised. */
  occurred_at: Timestamp,
  created_at: Timestamp,
  status: z.enum(['firing', 'resolved']).default('firing'),
  labels: z.record(z.string().max(64), z.string().max(256)).default({}),
  /** Link to the task timeline in the API, when an API base URL is configured. */
  link: z.string().url().max(1024).optional(),
  /**
   * Context: the risk signals of the task within the combine window when the alert was raised,
   * oldest first (for `AT-BASE-005`, the signals whose score made the page).
   */
  risk_signals: z.array(RiskSignal).max(16).optional(),
  /** The task's accumulated risk score when the alert was raised (present with `risk_signals`). */
  risk_score: z.number().nonnegative().optional(),
});
export type Alert = z.infer<typeof Alert>;
export type AlertInput = z.input<typeof Alert>;
