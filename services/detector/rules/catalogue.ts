import type { FrameworkRef, Severity } from '../../../schemas/index.js';
import { F } from './frameworks.js';

// Built-in rules: stable ids (never reused), severity, title and an explanation template.
// Templates name the declared scope element and the action: `{action}` describes the action,
// `{detail}` is the check's finding, other `{vars}` are supplied by the check.

export interface RuleMeta {
  id: string;
  severity: Severity;
  title: string;
  explanation: string;
  /** The declared element the rule holds actions against, when there is one. */
  scopeElement?: string;
  frameworks: readonly FrameworkRef[];
}

function rule(
  id: string,
  severity: Severity,
  title: string,
  explanation: string,
  frameworks: FrameworkRef[],
  scopeElement?: string,
): RuleMeta {
  return scopeElement === undefined
    ? { id, severity, title, explanation, frameworks }
    : { id, severity, title, explanation, frameworks, scopeElement };
}

export const BUILTIN_RULES = {
  // Out of scope
  'AT-SCOPE-001': rule(
    'AT-SCOPE-001',
    'high',
    'Tool outside declared scope',
    'The task declared its tools in scope.allow; {action} uses a tool it did not declare: {detail}.',
    [F.ASI02, F.NHI5],
    'scope.allow',
  ),
  'AT-SCOPE-002': rule(
    'AT-SCOPE-002',
    'high',
    'Operation outside declared scope',
    'scope.allow permits the tool only for other operations; {action}: {detail}.',
    [F.ASI02, F.ASI03, F.NHI5],
    'scope.allow',
  ),
  'AT-SCOPE-003': rule(
    'AT-SCOPE-003',
    'high',
    'Resource outside declared scope',
    'scope.allow limits which resources the task may touch; {action}: {detail}.',
    [F.ASI02, F.NHI5],
    'scope.allow',
  ),
  'AT-SCOPE-004': rule(
    'AT-SCOPE-004',
    'high',
    'Action matches a deny entry',
    'scope.deny forbids this explicitly (deny wins over allow); {action}: {detail}.',
    [F.ASI02, F.ASI03],
    'scope.deny',
  ),
  'AT-SCOPE-005': rule(
    'AT-SCOPE-005',
    'high',
    'Egress to an undeclared destination',
    'scope.egress lists where the task may send data; {action}: {detail}.',
    [F.ASI02, F.T0057],
    'scope.egress',
  ),
  'AT-SCOPE-007': rule(
    'AT-SCOPE-007',
    'high',
    'Recipient outside declared scope',
    'scope.recipients lists who the task may address (e-mail, account, chat user or channel, URL); {action}: {detail}.',
    [F.ASI02, F.T0057],
    'scope.recipients',
  ),
  'AT-SCOPE-006': rule(
    'AT-SCOPE-006',
    'medium',
    'Data class outside declared scope',
    'scope.data_classes lists the data the task may touch; {action}: {detail}.',
    [F.ASI02, F.T0057],
    'scope.data_classes',
  ),
  // Approvals
  'AT-APPR-001': rule(
    'AT-APPR-001',
    'high',
    'High-impact action without approval',
    'scope.approvals requires an approval for {action}, and no granted approval covers it: {detail}.',
    [F.ASI09, F.ASI03],
    'scope.approvals',
  ),
  'AT-APPR-002': rule(
    'AT-APPR-002',
    'high',
    'Approval covers a different action',
    'scope.approvals requires an approval for {action}; {detail}.',
    [F.ASI09, F.ASI03],
    'scope.approvals',
  ),
  'AT-APPR-003': rule(
    'AT-APPR-003',
    'medium',
    'Approval expired',
    'scope.approvals requires an approval for {action}; {detail}.',
    [F.ASI09],
    'scope.approvals',
  ),
  'AT-APPR-004': rule(
    'AT-APPR-004',
    'high',
    'Approval from an unauthorised approver',
    'scope.approvals.approvers names who may approve; {action} relies on {detail}.',
    [F.ASI09, F.ASI03],
    'scope.approvals',
  ),
  'AT-APPR-005': rule(
    'AT-APPR-005',
    'high',
    'Approval denied or already used',
    'scope.approvals requires an approval for {action}; {detail}.',
    [F.ASI09],
    'scope.approvals',
  ),
  // Credentials
  'AT-CRED-001': rule(
    'AT-CRED-001',
    'high',
    'Credential used after expiry',
    '{action} used credential {credential}, which expired at {expired_at} (clock-skew allowance {skew_s}s).',
    [F.ASI03, F.NHI7],
    'credential',
  ),
  'AT-CRED-002': rule(
    'AT-CRED-002',
    'critical',
    'Credential used after revocation',
    '{action} used credential {credential} after it was revoked (event {revoked_event}).',
    [F.ASI03, F.NHI1],
    'credential',
  ),
  'AT-CRED-003': rule(
    'AT-CRED-003',
    'high',
    'Credential issued for another task',
    '{action} used credential {credential}, issued for task {for_task}, not this one.',
    [F.ASI03, F.NHI9],
    'credential',
  ),
  'AT-CRED-004': rule(
    'AT-CRED-004',
    'critical',
    'Credential never issued (discovered)',
    '{action} used credential {credential}, which no credential.issued event in the record issued to any task: a credential from outside the record, possibly one the agent found.',
    [F.ASI03, F.NHI2, F.T0055],
    'credential',
  ),
  // Integrity of the record
  'AT-INT-001': rule(
    'AT-INT-001',
    'medium',
    'Gap in the task record',
    'Events {from}..{to} of the task had not arrived within the reorder window; the record is incomplete before event {after}.',
    [F.ASI10],
  ),
  'AT-INT-002': rule(
    'AT-INT-002',
    'critical',
    'Hash-chain break',
    'The task record does not verify at seq {seq}: {detail}.',
    [F.ASI10],
  ),
  'AT-INT-003': rule(
    'AT-INT-003',
    'high',
    'Conflicting events for one seq',
    'Seq {seq} arrived twice with different content (event {event} vs the one already recorded).',
    [F.ASI10],
  ),
  'AT-INT-004': rule(
    'AT-INT-004',
    'medium',
    'Action for an undeclared task',
    '{action} belongs to a task that had not been declared when it was judged: there is no intent or scope to hold it against.',
    [F.ASI10, F.NHI5],
  ),
  'AT-INT-005': rule(
    'AT-INT-005',
    'low',
    'Clock drift between agent and gateway',
    'Event {event} says it occurred at {occurred_at} but the gateway received it at {received_at} ({drift_s}s apart); time-based checks for this task rely on the agent clock.',
    [F.ASI10],
  ),
  // Task lifecycle and limits
  'AT-TASK-001': rule(
    'AT-TASK-001',
    'high',
    'Action after the task ended',
    '{action} happened after the task ended.',
    [F.ASI10, F.NHI1],
    'task',
  ),
  'AT-TASK-002': rule(
    'AT-TASK-002',
    'medium',
    'Action after scope expiry',
    '{action} happened after {detail}.',
    [F.ASI03, F.NHI7],
    'scope.limits',
  ),
  'AT-TASK-003': rule(
    'AT-TASK-003',
    'medium',
    'Action budget exceeded',
    '{action}: {detail}.',
    [F.ASI08, F.ASI10],
    'scope.limits',
  ),
  // Delegation and drift
  'AT-DELEG-001': rule(
    'AT-DELEG-001',
    'high',
    'Delegation widens scope',
    'Task {task} handed child task {child} a scope wider than its own: {detail}.',
    [F.ASI03, F.ASI07],
    'scope',
  ),
  'AT-DELEG-002': rule(
    'AT-DELEG-002',
    'high',
    "Child acts outside its parent's scope",
    "{action} by a delegated task is outside the parent task {parent}'s scope: {detail}.",
    [F.ASI03, F.ASI07],
    'scope',
  ),
  'AT-DRIFT-001': rule(
    'AT-DRIFT-001',
    'medium',
    'Scope widened mid-task without approval',
    'The scope was changed ({reason}) without a granted approval and is now wider than declared: {detail}.',
    [F.ASI01, F.ASI03],
    'scope',
  ),
  'AT-DRIFT-002': rule(
    'AT-DRIFT-002',
    'low',
    'Intent changed mid-task without approval',
    'The stated intent changed without a granted approval: was "{was}", now "{now}".',
    [F.ASI01],
    'intent',
  ),
  // Provenance
  'AT-PROV-001': rule(
    'AT-PROV-001',
    'critical',
    'Destination taken from tool output',
    '{action} carries a value that first appeared in the output of event {source} (not in the declaration), and {detail}: the signature of an agent steered by injected content.',
    [F.ASI01, F.T0051],
    'scope',
  ),
  'AT-PROV-002': rule(
    'AT-PROV-002',
    'high',
    'Content from tool output carried out',
    "{action} carries in {field} a {kind} that first appeared in the output of event {source} (not in the declaration) and is not one of the call's targets: content injected into a tool's output, passed on (a phishing link, an exfiltration address), even where the recipients are in scope.",
    [F.ASI01, F.T0051],
    'scope',
  ),
  // Baselines. AT-BASE-001…004 are risk signals (baselines/risk.ts): they never page alone; their
  // explanations describe the signal, carried in `risk_signals` of the task's alerts. AT-BASE-005
  // is the page for signals alone. Their severity is what a signal would have if it paged.
  'AT-BASE-001': rule(
    'AT-BASE-001',
    'medium',
    'Action rate far above baseline',
    'Identity {identity} made {count} actions in one {bucket_s}s bucket; its baseline median is {median} (threshold {threshold}).',
    [F.ASI10, F.ASI08],
  ),
  'AT-BASE-002': rule(
    'AT-BASE-002',
    'low',
    'First use of a tool by this identity',
    'Identity {identity} used tool {tool} for the first time after {known} actions of history ({action}).',
    [F.ASI02, F.ASI10],
  ),
  'AT-BASE-003': rule(
    'AT-BASE-003',
    'low',
    'First use of a resource class by this identity',
    'Identity {identity} touched resource class {class} for the first time after {known} actions of history ({action}).',
    [F.ASI02, F.ASI10],
  ),
  'AT-BASE-004': rule(
    'AT-BASE-004',
    'medium',
    'Unusual fan-out of resources',
    'Identity {identity} touched {count} distinct resources within {window_s}s ({action}).',
    [F.ASI10, F.T0057],
  ),
  'AT-BASE-005': rule(
    'AT-BASE-005',
    'medium',
    'Accumulated risk from baseline signals',
    'The task reached risk score {score} (this tenant pages at {page_score}) from baseline signals alone ({rules}), with no other finding on the task in the {window_s}s before; the last signal came with {action}.',
    [F.ASI10, F.ASI02],
  ),
} satisfies Record<string, RuleMeta>;

export type BuiltinRuleId = keyof typeof BUILTIN_RULES;
export const BUILTIN_RULE_IDS = Object.keys(BUILTIN_RULES) as BuiltinRuleId[];
