import { compileScope } from '../../scope/compile.js';
import { evaluateCompiled, type Violation, type ViolationKind } from '../../scope/evaluate.js';
import { getTask } from '../../state/apply.js';
import { TaskFlag } from '../../state/types.js';
import type { BuiltinRuleId } from '../catalogue.js';
import type { ActionContext } from './context.js';

// Out-of-scope actions, lifecycle (ended, expired, budget) and a delegated child's actions held
// against its parent's scope as well as its own.

const RULE_BY_KIND: Record<ViolationKind, BuiltinRuleId> = {
  tool: 'AT-SCOPE-001',
  operation: 'AT-SCOPE-002',
  resource: 'AT-SCOPE-003',
  denied: 'AT-SCOPE-004',
  egress: 'AT-SCOPE-005',
  recipient: 'AT-SCOPE-007',
  data_class: 'AT-SCOPE-006',
  max_actions: 'AT-TASK-003',
  expired: 'AT-TASK-002',
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function checkLifecycle(ctx: ActionContext): void {
  const { task, atMs, cfg } = ctx;
  if (!task.declared) {
    if ((task.flags & TaskFlag.UndeclaredReported) === 0) {
      task.flags |= TaskFlag.UndeclaredReported;
      ctx.emit('AT-INT-004', {});
    }
    return;
  }
  if (task.ended) ctx.emit('AT-TASK-001', {});
  const scope = task.scope ? compileScope(task.scope) : undefined;
  if (task.expiresMs !== undefined && atMs > task.expiresMs + cfg.clock_skew_ms) {
    ctx.emit('AT-TASK-002', { detail: `the task's expires_at (${iso(task.expiresMs)})` });
  } else if (scope?.expiresMs !== undefined && atMs > scope.expiresMs + cfg.clock_skew_ms) {
    ctx.emit('AT-TASK-002', { detail: `scope.limits.expires_at (${iso(scope.expiresMs)})` });
  }
  if (
    scope?.maxActions !== undefined &&
    task.actions + 1 > scope.maxActions &&
    (task.flags & TaskFlag.BudgetReported) === 0
  ) {
    task.flags |= TaskFlag.BudgetReported;
    ctx.emit('AT-TASK-003', {
      detail: `action #${task.actions + 1} exceeds scope.limits.max_actions (${scope.maxActions})`,
    });
  }
}

/** One alert per rule (its id is per rule and evidence): several targets' findings share it. */
function emitByRule(ctx: ActionContext, violations: readonly Violation[]): void {
  if (violations.length === 1) {
    ctx.emit(RULE_BY_KIND[violations[0]!.kind], { detail: violations[0]!.detail });
    return;
  }
  const byRule = new Map<BuiltinRuleId, string[]>();
  for (const v of violations) {
    const rule = RULE_BY_KIND[v.kind];
    const list = byRule.get(rule);
    if (list === undefined) byRule.set(rule, [v.detail]);
    else if (!list.includes(v.detail)) list.push(v.detail);
  }
  for (const [rule, details] of byRule) ctx.emit(rule, { detail: details.join('; ') });
}

export function checkScope(ctx: ActionContext): void {
  const { task, event } = ctx;
  if (task.scope === undefined) return;
  const result = evaluateCompiled(compileScope(task.scope), event.data);
  ctx.scopeEvaluation = result;
  if (!result.allowed) emitByRule(ctx, result.violations);
  if (task.parent === undefined) return;
  const parent = getTask(ctx.state, event.tenant, task.parent);
  if (parent?.scope === undefined || parent.scope === task.scope) return;
  const p = evaluateCompiled(compileScope(parent.scope), event.data);
  if (!p.allowed) {
    ctx.emit('AT-DELEG-002', {
      parent: parent.id,
      detail: p.violations.map((v) => `${v.element}: ${v.detail}`).join('; '),
    });
  }
}
