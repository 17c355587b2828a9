import type { ActionData, Scope } from '../../../schemas/index.js';
import { destinationHost } from '../../platform/glob.js';
import { append } from '../append.js';
import { type CompiledScope, compileScope, entryMatches } from './compile.js';

// Holds one action against one scope. Deny wins over allow; every violated element is reported so
// an alert can name exactly which declared element the action broke.

export type ScopeElement =
  | 'scope.allow'
  | 'scope.deny'
  | 'scope.egress'
  | 'scope.data_classes'
  | 'scope.limits';

export type ViolationKind =
  | 'tool'
  | 'operation'
  | 'resource'
  | 'denied'
  | 'egress'
  | 'data_class'
  | 'max_actions'
  | 'expired';

export interface Violation {
  element: ScopeElement;
  kind: ViolationKind;
  detail: string;
}

export interface Evaluation {
  allowed: boolean;
  violations: Violation[];
}

/** Optional limits context: pass the action's position and time to also check `scope.limits`. */
export interface LimitsContext {
  /** 1-based count of this action within the task. */
  actionNumber?: number;
  /** When the action occurred (ms since epoch). */
  atMs?: number;
  /** Clock-skew allowance before an expiry counts as passed. */
  skewMs?: number;
}

type ActionLike = Pick<ActionData, 'tool' | 'operation' | 'resource' | 'destination' | 'data_classes'>;

const NO_VIOLATIONS: Evaluation = Object.freeze({ allowed: true, violations: [] }) as Evaluation;

/**
 * Why no allow entry matched: the most specific field that no candidate entry accepts. A tool is
 * "declared" only by an entry that names it: an entry over any tool (e.g. reads on anything) does
 * not declare a state-changing tool, so that miss is a tool violation, not an operation one.
 */
function allowMiss(scope: CompiledScope, action: ActionLike): Violation {
  const byTool = scope.allow.filter((e) => e.tools === null || e.tools(action.tool));
  const byOp = byTool.filter((e) => e.operations === null || e.operations.has(action.operation));
  if (byTool.length === 0 || (byOp.length === 0 && !byTool.some((e) => e.tools !== null))) {
    return {
      element: 'scope.allow',
      kind: 'tool',
      detail:
        byTool.length === 0
          ? `tool '${action.tool}' is not in scope.allow`
          : `tool '${action.tool}' is not named in scope.allow, which allows only other operations on any tool`,
    };
  }
  if (byOp.length === 0) {
    return {
      element: 'scope.allow',
      kind: 'operation',
      detail: `operation '${action.operation}' on tool '${action.tool}' is not in scope.allow`,
    };
  }
  return {
    element: 'scope.allow',
    kind: 'resource',
    detail:
      action.resource === undefined
        ? `tool '${action.tool}' is allowed only on listed resources, and the action names none`
        : `resource '${action.resource}' is not in scope.allow for ${action.tool}/${action.operation}`,
  };
}

export function evaluateCompiled(scope: CompiledScope, action: ActionLike, ctx?: LimitsContext): Evaluation {
  // Allocation-free when the action is in scope (the common case): the list exists only on a miss.
  let violations: Violation[] | undefined;
  const target = { tool: action.tool, operation: action.operation, resource: action.resource };

  for (const entry of scope.deny) {
    if (entryMatches(entry, target)) {
      violations = append(violations, {
        element: 'scope.deny',
        kind: 'denied',
        detail: `${action.tool}/${action.operation}${action.resource ? ` on '${action.resource}'` : ''} matches a scope.deny entry`,
      });
      break;
    }
  }
  let allowed = false;
  for (const entry of scope.allow) {
    if (entryMatches(entry, target)) {
      allowed = true;
      break;
    }
  }
  if (!allowed) violations = append(violations, allowMiss(scope, action));

  if (action.destination !== undefined) {
    const host = destinationHost(action.destination);
    if (!scope.egress(host)) {
      violations = append(violations, {
        element: 'scope.egress',
        kind: 'egress',
        detail: `destination host '${host}' is not in scope.egress`,
      });
    }
  }
  const classes = action.data_classes;
  if (classes !== undefined) {
    for (const c of classes) {
      if (!scope.dataClasses.has(c)) {
        violations = append(violations, {
          element: 'scope.data_classes',
          kind: 'data_class',
          detail: `data class '${c}' is not in scope.data_classes`,
        });
      }
    }
  }
  if (ctx !== undefined) {
    if (
      scope.maxActions !== undefined &&
      ctx.actionNumber !== undefined &&
      ctx.actionNumber > scope.maxActions
    ) {
      violations = append(violations, {
        element: 'scope.limits',
        kind: 'max_actions',
        detail: `action #${ctx.actionNumber} exceeds scope.limits.max_actions (${scope.maxActions})`,
      });
    }
    if (
      scope.expiresMs !== undefined &&
      ctx.atMs !== undefined &&
      ctx.atMs > scope.expiresMs + (ctx.skewMs ?? 0)
    ) {
      violations = append(violations, {
        element: 'scope.limits',
        kind: 'expired',
        detail: `scope.limits.expires_at (${scope.source.limits.expires_at}) had passed`,
      });
    }
  }
  if (violations === undefined) return NO_VIOLATIONS;
  return { allowed: false, violations };
}

/** Evaluate an action against a scope: deny over allow, then egress, data classes and limits. */
export function evaluateAction(scope: Scope, action: ActionLike, ctx?: LimitsContext): Evaluation {
  return evaluateCompiled(compileScope(scope), action, ctx);
}
