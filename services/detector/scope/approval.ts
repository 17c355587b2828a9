import type { ActionData, ApprovalTarget, Operation, Scope } from '../../../schemas/index.js';
import { compileGlob } from '../../platform/glob.js';
import { type CompiledEntry, type CompiledScope, compileScope, entryMatches } from './compile.js';

// Which actions need an approval (the scope says so), and whether an approval's target refers to
// a given action. An approval refers to an action by its id, or by tool + operation (+ resource);
// a target without a resource covers the tool/operation on any resource the scope allows.

type ActionLike = Pick<ActionData, 'tool' | 'operation' | 'resource'>;

export function requiredApprovalEntry(scope: CompiledScope, action: ActionLike): CompiledEntry | undefined {
  for (const entry of scope.approvalRequired) if (entryMatches(entry, action)) return entry;
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
  if (
    target.resource !== undefined &&
    (action.resource === undefined || !compileGlob(target.resource)(action.resource))
  ) {
    return 'other_resource';
  }
  return 'match';
}
