import type { AgentEvent, EventOf, Scope } from '../../../schemas/index.js';
import { evaluateAction } from '../../detector/scope/evaluate.js';
import { isSubScope } from '../../detector/scope/subscope.js';
import { type ChainVerdict, ChainVerifier } from './chain.js';

// One task's timeline, assembled from what the read layer returned: pure, so every rule of it
// is unit-tested without ClickHouse. The route reads (the task's events, its alerts, the scope
// events of its parent and children) and calls assembleTimeline.
//
// Scope judgments reuse the detector's own scope model (services/detector/scope: evaluateAction,
// isSubScope over platform/glob.ts globCovers), so the timeline marks an action out of scope
// exactly when the detector would.

/** A stored event as rebuilt from its row; `valid` when it passes the v1 schema. */
export interface TimelineEventInput {
  event: Record<string, unknown> & { event_id: string; seq: number; type: string };
  valid: AgentEvent | undefined;
}

export interface TimelineAlertInput {
  alert_id: string;
  rule_id: string;
  severity: string;
  title: string;
  explanation: string;
  evidence: string[];
  scope_element: string | null;
  status: string;
  created_at: string;
  dedup_key: string;
}

/** A risk signal the detector recorded on the task (read/risk-signals.ts). */
export interface TimelineSignalInput {
  event_id: string;
  rule_id: string;
  score: number;
  occurred_at: string;
  explanation: string;
}

export interface RelatedTask {
  taskId: string;
  /** Its declared / scope_changed / delegated / ended events, validated, in seq order. */
  scopeEvents: AgentEvent[];
}

export interface TimelineInput {
  tenant: string;
  taskId: string;
  events: TimelineEventInput[];
  /** Rows that could not be rebuilt at all. */
  unreadable: number;
  alerts: TimelineAlertInput[];
  /** The task's risk signals (detector baselines): shown whether or not one rode on an alert. */
  riskSignals?: TimelineSignalInput[];
  /** Why the signals could not be read (their table is missing), shown with the risk. */
  riskUnavailable?: string;
  parent?: RelatedTask;
  children: RelatedTask[];
  /**
   * The chain verdict over every stored event, when `events` holds only the first of them (a
   * task longer than the timeline shows); computed from `events` otherwise.
   */
  chain?: ChainVerdict;
  /** How many events the task has, when more than `events` holds. */
  eventsTotal?: number;
}

interface Ref {
  event_id: string;
  seq: number;
  at: string;
}

export interface ActionMark {
  /** Neither left the declared scope nor triggered an alert. */
  in_scope: boolean;
  /** The rules it broke: rule ids of the alerts this action triggered (their last evidence). */
  rules: string[];
  /**
   * Rule ids of alerts naming it as earlier evidence only (e.g. the in-scope read whose output
   * held the token a later action used): part of the case, not where the task left scope.
   */
  evidence_of: string[];
  /** The declared scope elements the action left, with why (scope evaluation and alerts). */
  left_scope: Array<{ element: string; detail: string }>;
  /**
   * Rule ids of the risk signals observed on it (a first use, an outlier): context, not a
   * finding, so they do not make it out of scope.
   */
  risk_signals: string[];
}

const ref = (e: AgentEvent): Ref => ({ event_id: e.event_id, seq: e.seq, at: e.occurred_at });

function scopeAt(scopes: ReadonlyArray<{ seq: number; scope: Scope }>, seq: number): Scope | undefined {
  let s: Scope | undefined;
  for (const x of scopes) if (x.seq <= seq) s = x.scope;
  return s;
}

/** Every scope the task had, in order: the declaration, then each change. */
function scopeHistory(events: readonly AgentEvent[]): Array<{ seq: number; scope: Scope }> {
  const out: Array<{ seq: number; scope: Scope }> = [];
  for (const e of events)
    if (e.type === 'task.declared' || e.type === 'task.scope_changed')
      out.push({ seq: e.seq, scope: e.data.scope });
  return out;
}

function subset(child: Scope | undefined, parent: Scope | undefined) {
  if (!child || !parent) return { subset: null, widenings: [] as Array<{ element: string; detail: string }> };
  const r = isSubScope(child, parent);
  return { subset: r.ok, widenings: r.violations.map((v) => ({ element: v.element, detail: v.detail })) };
}

export function assembleTimeline(input: TimelineInput) {
  const valid = input.events.flatMap((e) => (e.valid ? [e.valid] : []));
  const byType = <T extends AgentEvent['type']>(t: T) => valid.filter((e): e is EventOf<T> => e.type === t);

  // The chain over every rebuilt event, valid or not (a tampered event may still validate).
  let verdict = input.chain;
  if (!verdict) {
    const chain = new ChainVerifier(input.taskId);
    for (const e of input.events) chain.add(e.event);
    for (let i = 0; i < input.unreadable; i++) chain.addUnreadable();
    verdict = chain.verdict();
  }

  const declaredEv = byType('task.declared')[0];
  const declared = declaredEv
    ? {
        ...ref(declaredEv),
        intent: declaredEv.data.intent,
        declared_by: declaredEv.data.declared_by,
        scope: declaredEv.data.scope,
        expires_at: declaredEv.data.expires_at ?? null,
      }
    : null;

  const granted = new Map(byType('approval.granted').map((e) => [e.data.approval_id, e]));
  const denied = new Map(byType('approval.denied').map((e) => [e.data.approval_id, e]));
  const requested = new Map(byType('approval.requested').map((e) => [e.data.approval_id, e]));
  const actions = byType('action');

  const scopeChanges = byType('task.scope_changed').map((e) => {
    const g = e.data.approval_id ? granted.get(e.data.approval_id) : undefined;
    return {
      ...ref(e),
      changed_by: e.data.changed_by,
      reason: e.data.reason,
      intent: e.data.intent ?? null,
      scope: e.data.scope,
      approval_id: e.data.approval_id ?? null,
      // A change counts as approved only by a grant recorded in this task before it.
      approved: g !== undefined && g.seq < e.seq,
      approval: g
        ? {
            approver: g.data.approver,
            at: g.occurred_at,
            context: g.data.context ?? null,
            event_id: g.event_id,
          }
        : null,
    };
  });

  const credentialIds = new Set<string>();
  for (const e of byType('credential.issued')) credentialIds.add(e.data.credential_id);
  for (const e of byType('credential.revoked')) credentialIds.add(e.data.credential_id);
  for (const a of actions) if (a.data.credential_id) credentialIds.add(a.data.credential_id);
  const credentials = [...credentialIds].map((id) => {
    const issued = byType('credential.issued').find((e) => e.data.credential_id === id);
    const revoked = byType('credential.revoked').find((e) => e.data.credential_id === id);
    const used = actions.filter((a) => a.data.credential_id === id);
    return {
      credential_id: id,
      issued: issued
        ? {
            ...ref(issued),
            kind: issued.data.kind,
            scopes: issued.data.scopes,
            issuer: issued.data.issuer ?? null,
            issued_for_task: issued.data.issued_for_task ?? input.taskId,
            expires_at: issued.data.expires_at,
          }
        : null,
      revoked: revoked ? { ...ref(revoked), reason: revoked.data.reason ?? null } : null,
      used_by: used.map(ref),
      /** Used in this task but never issued in it: the detector's "discovered credential". */
      never_issued_here: issued === undefined && used.length > 0,
      used_after_revocation: revoked !== undefined && used.some((a) => a.seq > revoked.seq),
    };
  });

  const approvalIds = new Set([...requested.keys(), ...granted.keys(), ...denied.keys()]);
  for (const a of actions) if (a.data.approval_id) approvalIds.add(a.data.approval_id);
  const approvals = [...approvalIds].map((id) => {
    const r = requested.get(id);
    const g = granted.get(id);
    const d = denied.get(id);
    return {
      approval_id: id,
      decision: g ? 'granted' : d ? 'denied' : r ? 'pending' : 'unknown',
      requested: r
        ? {
            ...ref(r),
            target: r.data.target,
            context: r.data.context ?? null,
            approver: r.data.approver ?? null,
          }
        : null,
      granted: g
        ? {
            ...ref(g),
            approver: g.data.approver,
            target: g.data.target,
            context: g.data.context ?? null,
            expires_at: g.data.expires_at ?? null,
            max_uses: g.data.max_uses,
          }
        : null,
      denied: d ? { ...ref(d), approver: d.data.approver, reason: d.data.reason ?? null } : null,
      used_by: actions.filter((a) => a.data.approval_id === id).map(ref),
      used_by_scope_change: scopeChanges.filter((c) => c.approval_id === id).map((c) => c.event_id),
    };
  });

  // Per event: the alerts that name it, and for actions the scope in effect then.
  const rulesByEvent = new Map<string, TimelineAlertInput[]>();
  for (const a of input.alerts)
    for (const id of a.evidence) rulesByEvent.set(id, [...(rulesByEvent.get(id) ?? []), a]);
  const signals = input.riskSignals ?? [];
  const signalsByEvent = new Map<string, string[]>();
  for (const x of signals)
    signalsByEvent.set(x.event_id, [...(signalsByEvent.get(x.event_id) ?? []), x.rule_id]);
  const scopes = scopeHistory(valid);
  let actionNumber = 0;
  const events = input.events.map(({ event, valid: v }) => {
    const base = {
      seq: event.seq,
      event_id: event.event_id,
      type: event.type,
      valid: v !== undefined,
      event,
    };
    if (v?.type !== 'action') return base;
    actionNumber++;
    const scope = scopeAt(scopes, v.seq);
    const alerts = rulesByEvent.get(v.event_id) ?? [];
    const left: Array<{ element: string; detail: string }> = [];
    if (scope) {
      const ev = evaluateAction(scope, v.data, { actionNumber, atMs: Date.parse(v.occurred_at) });
      for (const x of ev.violations) left.push({ element: x.element, detail: x.detail });
    } else {
      left.push({ element: 'scope', detail: 'no declared scope precedes this action' });
    }
    // An alert triggered by this action names its element even where the scope check cannot
    // (approvals, credentials, sequences).
    for (const a of alerts)
      if (
        a.scope_element &&
        a.evidence.at(-1) === v.event_id &&
        !left.some((l) => l.element === a.scope_element)
      )
        left.push({ element: a.scope_element, detail: `${a.rule_id}: ${a.title}` });
    const triggered = alerts.filter((a) => a.evidence.at(-1) === v.event_id);
    const rules = [...new Set(triggered.map((a) => a.rule_id))];
    const evidenceOf = [...new Set(alerts.filter((a) => !triggered.includes(a)).map((a) => a.rule_id))];
    const mark: ActionMark = {
      in_scope: rules.length === 0 && left.length === 0,
      rules,
      evidence_of: evidenceOf,
      left_scope: left,
      risk_signals: signalsByEvent.get(v.event_id) ?? [],
    };
    return { ...base, mark };
  });

  // Delegation: the parent that handed this task its scope, and the children it handed on.
  const ownScope = declared?.scope;
  let parent = null;
  if (input.parent) {
    const p = input.parent;
    const handed = p.scopeEvents.find(
      (e): e is EventOf<'task.delegated'> =>
        e.type === 'task.delegated' && e.data.child_task_id === input.taskId,
    );
    const parentScope = scopeAt(scopeHistory(p.scopeEvents), handed?.seq ?? Number.MAX_SAFE_INTEGER);
    parent = {
      task_id: p.taskId,
      scope: parentScope ?? null,
      handed_scope: handed?.data.scope ?? null,
      delegated_at: handed ? ref(handed) : null,
      ...subset(ownScope, parentScope),
    };
  }
  const delegations = byType('task.delegated');
  const childIds = new Set([
    ...delegations.map((d) => d.data.child_task_id),
    ...input.children.map((c) => c.taskId),
  ]);
  const children = [...childIds].map((id) => {
    const handed = delegations.find((d) => d.data.child_task_id === id);
    const related = input.children.find((c) => c.taskId === id);
    const childDeclared = related?.scopeEvents.find(
      (e): e is EventOf<'task.declared'> => e.type === 'task.declared',
    );
    const childScope = childDeclared?.data.scope ?? handed?.data.scope;
    const ours = scopeAt(scopes, handed?.seq ?? Number.MAX_SAFE_INTEGER);
    return {
      task_id: id,
      agent_id: handed?.data.child_agent_id ?? childDeclared?.agent.id ?? null,
      delegated_at: handed ? ref(handed) : null,
      handed_scope: handed?.data.scope ?? null,
      declared_scope: childDeclared?.data.scope ?? null,
      ...subset(childScope, ours),
    };
  });

  const endedEv = byType('task.ended')[0];
  const first = valid[0];
  return {
    tenant: input.tenant,
    task_id: input.taskId,
    agent: first ? { id: first.agent.id, workload_identity: first.agent.workload_identity ?? null } : null,
    parent_task_id: first?.parent_task_id ?? input.parent?.taskId ?? null,
    declared,
    scope_changes: scopeChanges,
    credentials,
    approvals,
    events,
    alerts: input.alerts,
    /** The task's accumulated baseline risk (the score AT-BASE-005 compares with page_score). */
    risk: {
      score: signals.reduce((sum, x) => sum + x.score, 0),
      signals,
      ...(input.riskUnavailable ? { unavailable: input.riskUnavailable } : {}),
    },
    delegation: { parent, children },
    ended: endedEv
      ? { ...ref(endedEv), outcome: endedEv.data.outcome, summary: endedEv.data.summary ?? null }
      : null,
    summary: {
      events: input.eventsTotal ?? input.events.length,
      /** Fewer than `events` when the task is longer than the timeline shows (see the export). */
      events_shown: input.events.length,
      actions: actionNumber,
      out_of_scope_actions: events.filter((e) => 'mark' in e && !e.mark.in_scope).length,
      alerts: input.alerts.length,
    },
    chain: verdict,
  };
}

export type Timeline = ReturnType<typeof assembleTimeline>;
