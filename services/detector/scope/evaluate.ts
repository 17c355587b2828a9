import type { ActionData, ActionTarget, Scope } from '../../../schemas/index.js';
import { destinationHost } from '../../platform/glob.js';
import { append } from '../append.js';
import { type CompiledScope, candidates, compileScope, firstMatching } from './compile.js';
import {
  inferRecipientForm,
  LIST_OF_FORM,
  normaliseRecipient,
  type RecipientList,
  recipientHost,
} from './recipients.js';

// Holds one action against one scope. Deny wins over allow; every violated element is reported so
// an alert can name exactly which declared element the action broke.

export type ScopeElement =
  | 'scope.allow'
  | 'scope.deny'
  | 'scope.egress'
  | 'scope.recipients'
  | 'scope.data_classes'
  | 'scope.limits';

export type ViolationKind =
  | 'tool'
  | 'operation'
  | 'resource'
  | 'denied'
  | 'egress'
  | 'recipient'
  | 'data_class'
  | 'max_actions'
  | 'expired';

export interface Violation {
  element: ScopeElement;
  kind: ViolationKind;
  detail: string;
  /** Index in `data.targets` of the target it is about, when it is about one (provenance looks it up). */
  target?: number;
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

type ActionLike = Pick<ActionData, 'tool' | 'operation' | 'resource' | 'destination' | 'data_classes'> & {
  targets?: ActionData['targets'];
};

const NO_VIOLATIONS: Evaluation = Object.freeze({ allowed: true, violations: [] }) as Evaluation;

/**
 * Why no allow entry matched: the most specific field that no candidate entry accepts. A tool is
 * "declared" only by an entry that names it: an entry over any tool (e.g. reads on anything) does
 * not declare a state-changing tool, so that miss is a tool violation, not an operation one.
 */
function allowMiss(
  scope: CompiledScope,
  action: Pick<ActionLike, 'tool' | 'operation' | 'resource'>,
): Violation {
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

function hasValue(targets: readonly ActionTarget[], value: string): boolean {
  for (const t of targets) if (t.value === value) return true;
  return false;
}

function targetLabel(t: ActionTarget, i: number, form?: string): string {
  const what = [form ?? t.kind, t.role].filter((x) => x !== undefined).join(', ');
  return `target #${i + 1} (${what}) '${t.value}'`;
}

/**
 * Every target of a multi-target call, each by its kind: resources with the tool and operation
 * (the action's own resource was judged already), destinations by host or URL, recipients and
 * accounts against scope.recipients (see schemas/scope.ts for the contract-1.0 fallback).
 */
function judgeTargets(
  scope: CompiledScope,
  action: ActionLike,
  targets: readonly ActionTarget[],
  violations: Violation[] | undefined,
): Violation[] | undefined {
  const r = scope.recipients;
  let out = violations;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t.kind === 'resource') {
      if (t.value === action.resource) continue;
      const on = { tool: action.tool, operation: action.operation, resource: t.value };
      const c = candidates(scope, action.tool, action.operation);
      if (firstMatching(c.deny, t.value) !== undefined) {
        out = append(out, {
          target: i,
          element: 'scope.deny',
          kind: 'denied',
          detail: `${targetLabel(t, i)} matches a scope.deny entry`,
        });
      } else if (firstMatching(c.allow, t.value) === undefined) {
        const miss = allowMiss(scope, on);
        // A tool or operation miss is reported once, for the action itself.
        if (miss.kind === 'resource')
          out = append(out, {
            target: i,
            element: 'scope.allow',
            kind: 'resource',
            detail: `${targetLabel(t, i)} is not in scope.allow for ${action.tool}/${action.operation}`,
          });
      }
      continue;
    }
    if (t.kind === 'destination') {
      const host = destinationHost(t.value);
      if (scope.egress(host) || r?.urls(normaliseRecipient('urls', t.value))) continue;
      out = append(out, {
        target: i,
        element: 'scope.egress',
        kind: 'egress',
        detail: `${targetLabel(t, i)}: host '${host}' is not in scope.egress${r !== undefined ? ' nor the URL in scope.recipients.urls' : ''}`,
      });
      continue;
    }
    if (t.kind === 'account') {
      if (r === undefined || r.accounts(normaliseRecipient('accounts', t.value))) continue;
      out = append(out, {
        target: i,
        element: 'scope.recipients',
        kind: 'recipient',
        detail: `${targetLabel(t, i)} is not in scope.recipients.accounts`,
      });
      continue;
    }
    // A recipient.
    const form = t.form ?? inferRecipientForm(t.value);
    const host = form !== undefined ? recipientHost(form, t.value) : undefined;
    if (r === undefined) {
      // Contract 1.0: only a host can be judged, against egress (what `destination` got).
      if (host !== undefined && !scope.egress(host))
        out = append(out, {
          target: i,
          element: 'scope.egress',
          kind: 'egress',
          detail: `${targetLabel(t, i, form)}: host '${host}' is not in scope.egress`,
        });
      continue;
    }
    if (host !== undefined && scope.egress(host)) continue;
    const lists: RecipientList[] =
      form !== undefined ? [LIST_OF_FORM[form]] : ['chat_users', 'chat_channels', 'emails'];
    if (lists.some((l) => r[l](normaliseRecipient(l, t.value)))) continue;
    out = append(out, {
      target: i,
      element: 'scope.recipients',
      kind: 'recipient',
      detail: `${targetLabel(t, i, form)} is not in scope.recipients.${lists.join('/')}${host !== undefined ? ` and its host '${host}' is not in scope.egress` : ''}`,
    });
  }
  return out;
}

export function evaluateCompiled(scope: CompiledScope, action: ActionLike, ctx?: LimitsContext): Evaluation {
  // Allocation-free when the action is in scope (the common case): the list exists only on a miss.
  let violations: Violation[] | undefined;
  const c = candidates(scope, action.tool, action.operation);
  if (firstMatching(c.deny, action.resource) !== undefined) {
    violations = append(violations, {
      element: 'scope.deny',
      kind: 'denied',
      detail: `${action.tool}/${action.operation}${action.resource ? ` on '${action.resource}'` : ''} matches a scope.deny entry`,
    });
  }
  if (firstMatching(c.allow, action.resource) === undefined)
    violations = append(violations, allowMiss(scope, action));

  const targets = action.targets;
  // With targets, the legacy destination is one of them and is judged with its kind below.
  if (action.destination !== undefined && (targets === undefined || !hasValue(targets, action.destination))) {
    const host = destinationHost(action.destination);
    if (!scope.egress(host)) {
      violations = append(violations, {
        element: 'scope.egress',
        kind: 'egress',
        detail: `destination host '${host}' is not in scope.egress`,
      });
    }
  }
  if (targets !== undefined) violations = judgeTargets(scope, action, targets, violations);
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
