import type { EventOf } from '../../../../schemas/index.js';
import { isSubScope } from '../../scope/subscope.js';
import { getTask, scopeChangeApproved } from '../../state/apply.js';
import type { CheckContext } from './context.js';

// Delegation must not widen scope; a scope or intent change mid-task is a re-validation point and
// needs a granted approval when it widens what the task may do.

function summarise(violations: { element: string; detail: string }[]): string {
  return violations.map((v) => `${v.element}: ${v.detail}`).join('; ');
}

export function checkDelegated(ctx: CheckContext<EventOf<'task.delegated'>>): void {
  const { task, event } = ctx;
  if (task.scope === undefined) return;
  const result = isSubScope(event.data.scope, task.scope);
  if (!result.ok) {
    ctx.emit('AT-DELEG-001', { child: event.data.child_task_id, detail: summarise(result.violations) });
  }
}

/** A child's own declaration is held against its parent's scope too. */
export function checkChildDeclared(ctx: CheckContext<EventOf<'task.declared'>>): void {
  const { event } = ctx;
  const parentId = event.parent_task_id ?? ctx.task.parent;
  if (parentId === undefined) return;
  const parent = getTask(ctx.state, event.tenant, parentId);
  if (parent?.scope === undefined) return;
  const result = isSubScope(event.data.scope, parent.scope);
  if (!result.ok) {
    ctx.emit('AT-DELEG-001', { task: parent.id, child: event.task_id, detail: summarise(result.violations) });
  }
}

export function checkScopeChanged(ctx: CheckContext<EventOf<'task.scope_changed'>>): void {
  const { task, event } = ctx;
  if (scopeChangeApproved(task, event.data.approval_id)) return;
  const baseline = task.declaredScope ?? task.scope;
  if (baseline !== undefined) {
    const result = isSubScope(event.data.scope, baseline);
    if (!result.ok) {
      ctx.emit('AT-DRIFT-001', {
        reason: event.data.reason.slice(0, 200),
        detail: summarise(result.violations),
      });
    }
  }
  const intent = event.data.intent;
  if (intent !== undefined && task.intent !== undefined && intent.slice(0, 256) !== task.intent) {
    ctx.emit('AT-DRIFT-002', { was: task.intent.slice(0, 120), now: intent.slice(0, 120) });
  }
}
