import { isAuthorisedApprover, matchTarget, requiredApprovalEntry } from '../../scope/approval.js';
import { compileScope } from '../../scope/compile.js';
import type { ApprovalState } from '../../state/types.js';
import type { BuiltinRuleId } from '../catalogue.js';
import type { ActionContext } from './context.js';

// High-impact actions pass only with an approval that refers to the action, was granted by an
// approver the scope names, has not expired and has uses left. Which approval covered which action
// is recorded in the state (ApprovalState.covered); when none covers it, the alert says why.

export type ApprovalDecision =
  | { required: false }
  | { required: true; coveredBy: string }
  | { required: true; rule: BuiltinRuleId; detail: string; evidence: string[] };

const NOT_REQUIRED: ApprovalDecision = { required: false };

// Higher rank = the more specific reason to report when several approvals almost matched.
const PROBLEM_RANK: Partial<Record<BuiltinRuleId, number>> = {
  'AT-APPR-004': 5,
  'AT-APPR-003': 4,
  'AT-APPR-005': 3,
  'AT-APPR-002': 2,
  'AT-APPR-001': 1,
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function decideApproval(ctx: ActionContext): ApprovalDecision {
  const { task, event, atMs, cfg } = ctx;
  if (task.scope === undefined) return NOT_REQUIRED;
  const scope = compileScope(task.scope);
  const action = event.data;
  if (requiredApprovalEntry(scope, action) === undefined) return NOT_REQUIRED;

  let best: { rule: BuiltinRuleId; detail: string; evidence: string[] } = {
    rule: 'AT-APPR-001',
    detail: 'no approval refers to it',
    evidence: [],
  };
  // The default says no approval refers to the action: any approval that does outranks it.
  let fallback = true;
  const consider = (rule: BuiltinRuleId, detail: string, approval: ApprovalState) => {
    if (fallback || (PROBLEM_RANK[rule] ?? 0) > (PROBLEM_RANK[best.rule] ?? 0)) {
      fallback = false;
      best = { rule, detail, evidence: approval.event ? [approval.event] : [] };
    }
  };

  const approvals = task.approvals ?? {};
  // The approval the agent names is tried first; any other grant that targets the action also counts.
  const ids = Object.keys(approvals);
  if (action.approval_id !== undefined) {
    const i = ids.indexOf(action.approval_id);
    if (i > 0) {
      ids.splice(i, 1);
      ids.unshift(action.approval_id);
    }
  }
  if (action.approval_id !== undefined && approvals[action.approval_id] === undefined) {
    best = {
      rule: 'AT-APPR-001',
      detail: `it names approval ${action.approval_id}, which the record never mentions`,
      evidence: [],
    };
    fallback = false;
  }
  for (const id of ids) {
    const a = approvals[id]!;
    if (a.target === undefined) continue;
    const named = id === action.approval_id;
    const m = matchTarget(a.target, event.event_id, action);
    if (m !== 'match') {
      // Only an approval the agent points at, or one for the same tool, is a near miss worth naming.
      if (named || m === 'other_resource' || m === 'other_operation' || m === 'other_action') {
        const what =
          m === 'other_resource'
            ? `resource '${a.target.resource}'`
            : m === 'other_operation'
              ? `operation '${a.target.operation}'`
              : m === 'other_action'
                ? `action ${a.target.action_id}`
                : `tool '${a.target.tool}'`;
        consider('AT-APPR-002', `approval ${id} covers ${what}, not this action`, a);
      }
      continue;
    }
    if (a.status === 'denied') {
      consider('AT-APPR-005', `approval ${id} was denied by ${a.approver}`, a);
      continue;
    }
    if (a.status !== 'granted') {
      consider('AT-APPR-001', `approval ${id} was requested but never granted`, a);
      continue;
    }
    if (!isAuthorisedApprover(scope, a.approver ?? '')) {
      consider(
        'AT-APPR-004',
        `approval ${id} granted by '${a.approver}', who is not in scope.approvals.approvers`,
        a,
      );
      continue;
    }
    if (a.expiresMs !== undefined && atMs > a.expiresMs + cfg.clock_skew_ms) {
      consider('AT-APPR-003', `approval ${id} expired at ${iso(a.expiresMs)}`, a);
      continue;
    }
    if ((a.usesLeft ?? 1) <= 0) {
      consider(
        'AT-APPR-005',
        `approval ${id} was already used for ${a.covered?.join(', ') ?? 'other actions'}`,
        a,
      );
      continue;
    }
    return { required: true, coveredBy: id };
  }
  return { required: true, ...best };
}

export function checkApproval(ctx: ActionContext): string | undefined {
  const decision = decideApproval(ctx);
  if (!decision.required) return undefined;
  if ('coveredBy' in decision) return decision.coveredBy;
  ctx.emit(decision.rule, { detail: decision.detail }, [...decision.evidence, ctx.event.event_id]);
  return undefined;
}
