import { hash } from 'node:crypto';
import {
  type AgentEvent,
  type Alert,
  Alert as AlertSchema,
  type RiskSignal,
} from '../../../schemas/index.js';
import { timelineLink } from '../../platform/timeline-link.js';
import type { RuleMeta } from './catalogue.js';
import { describeAction } from './describe.js';

// Alert construction. The id is a function of (tenant, rule, task, evidence), so replaying the same
// events yields the same ids and a downstream store deduplicates instead of double-alerting.

export function alertId(tenant: string, ruleId: string, taskId: string, evidence: readonly string[]): string {
  // One-shot hash of the joined text: the same digest as updating a Hash part by part, without
  // the Hash object (crypto.hash, Node ≥ 20.12).
  let text = `${tenant}\n${ruleId}\n${taskId}`;
  for (const id of evidence) text += `\n${id}`;
  return hash('sha256', text, 'hex').slice(0, 32);
}

/** Marker for a placeholder with no value: visible in the alert, and found by the rule tests. */
export const MISSING_VAR = /\{[a-z0-9_.]+\?\}/;

/** Fill `{name}` placeholders; unknown names render as `{name?}` so a template bug is visible, not silent. */
export function renderTemplate(
  template: string,
  vars: Readonly<Record<string, string | number | undefined>>,
): string {
  return template.replace(/\{([a-z0-9_.]+)\}/g, (_, name: string) => {
    const v = vars[name];
    return v === undefined ? `{${name}?}` : String(v);
  });
}

/** One-line description of an event, as used in explanations. */
export function describeEvent(event: AgentEvent): string {
  if (event.type !== 'action') return `${event.type} (event ${event.event_id})`;
  return `action ${describeAction(event.data)} (event ${event.event_id})`;
}

/** A rule's explanation for one event: the template filled with the event and the check's vars. */
export function explainEvent(
  meta: RuleMeta,
  event: AgentEvent,
  vars: Readonly<Record<string, string | number | undefined>>,
  taskId = event.task_id,
): string {
  return renderTemplate(meta.explanation.trim(), {
    action: describeEvent(event),
    task: taskId,
    event: event.event_id,
    ...vars,
  });
}

/**
 * The risk signals as lines appended to an explanation (what else was unusual about the task):
 * the CLI and the timeline print an explanation line by line.
 */
export function describeSignals(signals: readonly RiskSignal[], score: number): string {
  const lines = signals.map((s) => `\n- ${s.rule_id} +${s.score} (event ${s.event_id}): ${s.explanation}`);
  return `Risk signals on this task (score ${score}):${lines.join('')}`;
}

export interface AlertInputs {
  meta: RuleMeta;
  /** The triggering event; it is the last evidence item. */
  event: AgentEvent;
  /** Task the alert is about (defaults to the event's task). */
  taskId?: string;
  evidence: readonly string[];
  vars: Readonly<Record<string, string | number | undefined>>;
  createdAtMs: number;
  linkBaseUrl?: string | undefined;
  dedupKey?: string;
  labels?: Record<string, string>;
  /** The task's risk signals carried as context, and its risk score (baselines/risk.ts). */
  riskSignals?: readonly RiskSignal[];
  riskScore?: number;
}

const MAX_EVIDENCE = 64;
const MAX_EXPLANATION = 4096;

export function buildAlert(input: AlertInputs): Alert {
  const { meta, event } = input;
  const taskId = input.taskId ?? event.task_id;
  let evidence = input.evidence.length > 0 ? [...input.evidence] : [event.event_id];
  // Keep the first and the most recent evidence when a long sequence overflows the schema bound.
  if (evidence.length > MAX_EVIDENCE)
    evidence = [...evidence.slice(0, 8), ...evidence.slice(-(MAX_EVIDENCE - 8))];
  let explanation = explainEvent(meta, event, input.vars, taskId);
  const signals = input.riskSignals;
  if (signals !== undefined && signals.length > 0)
    explanation += `\n${describeSignals(signals, input.riskScore ?? 0)}`;
  const alert: Alert = {
    alert_id: alertId(event.tenant, meta.id, taskId, evidence),
    rule_id: meta.id,
    severity: meta.severity,
    title: meta.title,
    explanation: explanation.slice(0, MAX_EXPLANATION),
    tenant: event.tenant,
    task_id: taskId,
    agent_id: event.agent.id,
    evidence,
    frameworks: [...meta.frameworks],
    dedup_key: input.dedupKey ?? `${meta.id}|${event.tenant}|${taskId}`,
    occurred_at: event.occurred_at,
    created_at: new Date(input.createdAtMs).toISOString(),
    status: 'firing',
    labels: input.labels ?? {},
  };
  if (event.agent.workload_identity !== undefined) alert.workload_identity = event.agent.workload_identity;
  if (meta.scopeElement !== undefined) alert.scope_element = meta.scopeElement;
  if (input.linkBaseUrl !== undefined) {
    alert.link = timelineLink(input.linkBaseUrl, event.tenant, taskId);
  }
  if (signals !== undefined && signals.length > 0) {
    alert.risk_signals = [...signals];
    alert.risk_score = input.riskScore ?? 0;
  }
  // The contract is the schema: an alert that does not validate is a detector bug, so fail loudly.
  return AlertSchema.parse(alert);
}
