import type { ActionData, ApprovalTarget, Operation, Scope } from '../../../schemas/index.js';
import { compileGlob } from '../../platform/glob.js';
import {
  type CompiledEntry,
  type CompiledScope,
  candidates,
  compileScope,
  firstMatching,
} from './compile.js';

// Which actions need an approval (the scope says so), and whether an approval's target refers to
// a given action. An approval refers to an action by its id, or by tool + operation (+ resource);
// a target without a resource covers the tool/operation on any resource the scope allows.

type ActionLike = Pick<ActionData, 'tool' | 'operation' | 'resource'> & Partial<Pick<ActionData, 'targets'>>;

/**
 * The resources an action touches: its `resource` and every `resource` target (a multi-target
 * call is judged on each, not only the first), or `[undefined]` when it names none.
 */
export function resourcesOf(action: ActionLike): ReadonlyArray<string | undefined> {
  const targets = action.targets;
  if (targets === undefined) return [action.resource];
  let out: Array<string | undefined> | undefined;
  for (const t of targets) {
    if (t.kind !== 'resource' || t.value === action.resource) continue;
    out ??= [action.resource];
    if (!out.includes(t.value)) out.push(t.value);
  }
  return out ?? [action.resource];
}

/** The scope.approvals.required entry any resource of the action falls under, if one does. */
export function requiredApprovalEntry(scope: CompiledScope, action: ActionLike): CompiledEntry | undefined {
  if (scope.approvalRequired.length === 0) return undefined;
  const entries = candidates(scope, action.tool, action.operation).approvalRequired;
  if (entries.length === 0) return undefined;
  if (action.targets === undefined) return firstMatching(entries, action.resource);
  for (const resource of resourcesOf(action)) {
    const entry = firstMatching(entries, resource);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** Does this action need an approval under this scope? */
export function requiresApproval(scope: Scope, action: ActionLike): boolean {
  return requiredApprovalEntry(compileScope(scope), action) !== undefined;
}

export function isAuthorisedApprover(scope: CompiledScope, approver: string): boolean {
  return scope.approvers(approver);
}

export type TargetMatch = 'match' | 'other_action' | 'other_tool' | 'other_operation' | 'other_resource';

/** How an approval target relates to an action (`eventId` is the action's `event_id`). */
export function matchTarget(
  target: Pick<ApprovalTarget, 'action_id' | 'tool' | 'operation' | 'resource'>,
  eventId: string,
  action: ActionLike,
): TargetMatch {
  if (target.action_id !== undefined) return target.action_id === eventId ? 'match' : 'other_action';
  if (target.tool !== undefined && !compileGlob(target.tool)(action.tool)) return 'other_tool';
  if (target.operation !== undefined && target.operation !== (action.operation as Operation))
    return 'other_operation';
  if (target.resource !== undefined) {
    // It must cover every resource the call touches: approving one file is not approving two.
    const covers = compileGlob(target.resource);
    if (resourcesOf(action).some((r) => r === undefined || !covers(r))) return 'other_resource';
  }
  return 'match';
}
