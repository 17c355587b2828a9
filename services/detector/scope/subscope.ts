import type { Scope, ScopeEntry } from '../../../schemas/index.js';
import { globCovers } from '../../platform/glob.js';
import type { ScopeElement } from './evaluate.js';
import { normalisePattern, type RecipientList } from './recipients.js';

// Delegation check: a child's scope must be a subset of its parent's. Glob containment is decided
// conservatively (see globCovers): when in doubt the child is reported as wider, since a false
// "wider" costs a review while a false "subset" hides privilege escalation.

export interface SubScopeViolation {
  element: ScopeElement | 'scope.approvals';
  detail: string;
}

export interface SubScopeResult {
  ok: boolean;
  violations: SubScopeViolation[];
}

function listCovered(outer: readonly string[] | undefined, inner: readonly string[] | undefined): boolean {
  if (outer === undefined) return true; // parent says "any"
  if (inner === undefined) return false; // child says "any", parent does not
  return inner.every((i) => outer.some((o) => globCovers(o, i)));
}

/** Is every action `inner` matches also matched by `outer`? */
export function entryCovers(outer: ScopeEntry, inner: ScopeEntry): boolean {
  if (!listCovered(outer.tools, inner.tools)) return false;
  if (outer.operations !== undefined) {
    if (inner.operations === undefined) return false;
    if (!inner.operations.every((op) => outer.operations!.includes(op))) return false;
  }
  return listCovered(outer.resources, inner.resources);
}

/** Could some action match both entries? Over-approximates (true when unsure). */
function entriesOverlap(a: ScopeEntry, b: ScopeEntry): boolean {
  if (a.operations && b.operations && !a.operations.some((op) => b.operations!.includes(op))) return false;
  if (a.tools && b.tools) {
    const overlap = a.tools.some((x) => b.tools!.some((y) => globCovers(x, y) || globCovers(y, x)));
    if (!overlap) return false;
  }
  return true;
}

function describe(entry: ScopeEntry): string {
  const parts: string[] = [];
  parts.push(`tools=${entry.tools ? entry.tools.join(',') : '*'}`);
  parts.push(`operations=${entry.operations ? entry.operations.join(',') : '*'}`);
  parts.push(`resources=${entry.resources ? entry.resources.join(',') : '*'}`);
  return `{${parts.join(' ')}}`;
}

const RECIPIENT_LISTS: readonly RecipientList[] = [
  'emails',
  'accounts',
  'chat_users',
  'chat_channels',
  'urls',
];

/** The host part of an e-mail or URL glob, when the glob has one to compare with egress. */
function patternHost(list: RecipientList, normalised: string): string | undefined {
  if (list === 'emails') {
    const at = normalised.lastIndexOf('@');
    return at >= 0 ? normalised.slice(at + 1) : undefined;
  }
  if (list === 'urls') return normalised.split('/')[0];
  return undefined;
}

/**
 * scope.recipients must not widen either: a child that drops it judges recipients by host only
 * (wider than a parent that lists them); each child entry must be covered by the parent's list of
 * its kind, or (e-mail, URL) by a parent egress host. Accounts and chat names are not judged
 * under a parent without scope.recipients, so any child entry of those kinds is narrower.
 */
function recipientWidenings(child: Scope, parent: Scope): SubScopeViolation[] {
  const out: SubScopeViolation[] = [];
  const pr = parent.recipients;
  const cr = child.recipients;
  if (cr === undefined) {
    if (pr !== undefined)
      out.push({ element: 'scope.recipients', detail: "child drops the parent's scope.recipients" });
    return out;
  }
  for (const list of RECIPIENT_LISTS) {
    for (const raw of cr[list]) {
      const p = normalisePattern(list, raw);
      if (pr?.[list].some((o) => globCovers(normalisePattern(list, o), p))) continue;
      const host = patternHost(list, p);
      if (host !== undefined && parent.egress.some((e) => globCovers(e, host, 'host'))) continue;
      if (pr === undefined && host === undefined) continue;
      out.push({
        element: 'scope.recipients',
        detail: `child scope.recipients.${list} '${raw}' is not within the parent's scope`,
      });
    }
  }
  return out;
}

/** Child equal to or narrower than parent → ok; otherwise every widening is listed. */
export function isSubScope(child: Scope, parent: Scope): SubScopeResult {
  const violations: SubScopeViolation[] = [];

  for (const entry of child.allow) {
    if (!parent.allow.some((p) => entryCovers(p, entry))) {
      violations.push({
        element: 'scope.allow',
        detail: `child allow entry ${describe(entry)} is not within the parent's scope.allow`,
      });
    }
  }
  // A parent's deny must keep applying: the child repeats it, or no child allow entry can reach it.
  for (const denied of parent.deny) {
    const kept = child.deny.some((c) => entryCovers(c, denied));
    if (!kept && child.allow.some((a) => entriesOverlap(a, denied))) {
      violations.push({
        element: 'scope.deny',
        detail: `child drops the parent's scope.deny entry ${describe(denied)}`,
      });
    }
  }
  for (const host of child.egress) {
    if (!parent.egress.some((p) => globCovers(p, host, 'host'))) {
      violations.push({
        element: 'scope.egress',
        detail: `child egress '${host}' is not within the parent's scope.egress`,
      });
    }
  }
  violations.push(...recipientWidenings(child, parent));
  for (const c of child.data_classes) {
    if (!parent.data_classes.includes(c)) {
      violations.push({
        element: 'scope.data_classes',
        detail: `child data class '${c}' is not in the parent's scope.data_classes`,
      });
    }
  }
  const pa = parent.approvals;
  const ca = child.approvals;
  for (const req of pa?.required_for ?? []) {
    if (!(ca?.required_for ?? []).some((c) => entryCovers(c, req))) {
      violations.push({
        element: 'scope.approvals',
        detail: `child no longer requires approval for ${describe(req)}`,
      });
    }
  }
  for (const approver of ca?.approvers ?? []) {
    if (!(pa?.approvers ?? []).some((p) => globCovers(p, approver))) {
      violations.push({
        element: 'scope.approvals',
        detail: `child names approver '${approver}' the parent does not`,
      });
    }
  }
  const pl = parent.limits ?? {};
  const cl = child.limits ?? {};
  if (pl.max_actions !== undefined && (cl.max_actions === undefined || cl.max_actions > pl.max_actions)) {
    violations.push({
      element: 'scope.limits',
      detail: `child max_actions (${cl.max_actions ?? 'unlimited'}) exceeds the parent's (${pl.max_actions})`,
    });
  }
  if (
    pl.expires_at !== undefined &&
    (cl.expires_at === undefined || Date.parse(cl.expires_at) > Date.parse(pl.expires_at))
  ) {
    violations.push({
      element: 'scope.limits',
      detail: `child expires_at (${cl.expires_at ?? 'never'}) is later than the parent's (${pl.expires_at})`,
    });
  }
  return { ok: violations.length === 0, violations };
}
