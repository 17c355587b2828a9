import type { Operation, Scope, ScopeEntry } from '../../../schemas/index.js';
import { compileGlobList, type Matcher } from '../../platform/glob.js';
import { type CompiledRecipients, compileRecipients } from './recipients.js';

// A scope compiled for matching. Compiled once per scope object (WeakMap): tasks that share a
// scope (interned at declaration) share one compiled form, and restored snapshots recompile lazily.

export interface CompiledEntry {
  readonly source: ScopeEntry;
  readonly tools: Matcher | null;
  readonly operations: ReadonlySet<Operation> | null;
  readonly resources: Matcher | null;
}

export interface CompiledScope {
  readonly source: Scope;
  readonly allow: readonly CompiledEntry[];
  readonly deny: readonly CompiledEntry[];
  readonly egress: Matcher;
  /** Absent when the scope lists no recipients (contract 1.0 behaviour: hosts only). */
  readonly recipients: CompiledRecipients | undefined;
  readonly dataClasses: ReadonlySet<string>;
  readonly approvalRequired: readonly CompiledEntry[];
  readonly approvers: Matcher;
  readonly defaultApprovalTtlMs: number;
  readonly maxActions: number | undefined;
  readonly expiresMs: number | undefined;
  /** Per tool, then operation: the entries whose tools and operations accept it (see `candidates`). */
  readonly byAction: Map<string, Map<string, Candidates>>;
}

/**
 * The entries of each list whose `tools` and `operations` accept one (tool, operation), in list
 * order: what is left to match is only the resource. Tools and operations of a task repeat, so
 * this is worked out once per pair instead of testing every entry's tool globs per action.
 */
export interface Candidates {
  readonly allow: readonly CompiledEntry[];
  readonly deny: readonly CompiledEntry[];
  readonly approvalRequired: readonly CompiledEntry[];
}

export function compileEntry(entry: ScopeEntry): CompiledEntry {
  return {
    source: entry,
    tools: entry.tools ? compileGlobList(entry.tools) : null,
    operations: entry.operations ? new Set(entry.operations) : null,
    resources: entry.resources ? compileGlobList(entry.resources) : null,
  };
}

/** What an entry is matched against: the (tool, operation, resource) of an action. */
export interface EntryTarget {
  tool: string;
  operation: Operation;
  resource?: string | undefined;
}

/** Distinct tools a compiled scope keeps candidates for; past it, they are worked out per call. */
const MAX_CANDIDATE_TOOLS = 1024;

function acceptsAction(entry: CompiledEntry, tool: string, operation: string): boolean {
  return (
    (entry.tools === null || entry.tools(tool)) &&
    (entry.operations === null || entry.operations.has(operation as Operation))
  );
}

/** The entries that accept this tool and operation (cached per scope; entryMatches less the resource). */
export function candidates(scope: CompiledScope, tool: string, operation: string): Candidates {
  let byOp = scope.byAction.get(tool);
  const hit = byOp?.get(operation);
  if (hit !== undefined) return hit;
  const c: Candidates = {
    allow: scope.allow.filter((e) => acceptsAction(e, tool, operation)),
    deny: scope.deny.filter((e) => acceptsAction(e, tool, operation)),
    approvalRequired: scope.approvalRequired.filter((e) => acceptsAction(e, tool, operation)),
  };
  if (byOp === undefined) {
    if (scope.byAction.size >= MAX_CANDIDATE_TOOLS) return c;
    byOp = new Map();
    scope.byAction.set(tool, byOp);
  }
  byOp.set(operation, c);
  return c;
}

/** Does a candidate entry (tool and operation already accepted) take this resource? entryMatches' last test. */
export function resourceMatches(entry: CompiledEntry, resource: string | undefined): boolean {
  return entry.resources === null || (resource !== undefined && entry.resources(resource));
}

/** The first candidate entry that takes this resource, if any. */
export function firstMatching(
  entries: readonly CompiledEntry[],
  resource: string | undefined,
): CompiledEntry | undefined {
  for (const e of entries) if (resourceMatches(e, resource)) return e;
  return undefined;
}

/**
 * Omitted entry fields match anything. An entry that constrains resources matches only actions
 * that name a resource: an action without one is not "on" any of the listed resources.
 */
export function entryMatches(entry: CompiledEntry, t: EntryTarget): boolean {
  if (entry.tools !== null && !entry.tools(t.tool)) return false;
  if (entry.operations !== null && !entry.operations.has(t.operation)) return false;
  if (entry.resources !== null && (t.resource === undefined || !entry.resources(t.resource))) return false;
  return true;
}

const compiled = new WeakMap<Scope, CompiledScope>();
/**
 * The last scope asked for and its compiled form: the checks of one event ask for the same scope
 * four or five times, and tasks share interned scopes, so this answers most calls without the
 * WeakMap lookup. Holds one scope alive at most.
 */
let lastScope: Scope | undefined;
let lastCompiled: CompiledScope | undefined;

export function compileScope(scope: Scope): CompiledScope {
  if (scope === lastScope) return lastCompiled!;
  const hit = compiled.get(scope);
  if (hit) {
    lastScope = scope;
    lastCompiled = hit;
    return hit;
  }
  const expires = scope.limits?.expires_at;
  const result: CompiledScope = {
    source: scope,
    allow: scope.allow.map(compileEntry),
    deny: scope.deny.map(compileEntry),
    egress: compileGlobList(scope.egress, 'host'),
    recipients: scope.recipients !== undefined ? compileRecipients(scope.recipients) : undefined,
    dataClasses: new Set(scope.data_classes),
    approvalRequired: (scope.approvals?.required_for ?? []).map(compileEntry),
    approvers: compileGlobList(scope.approvals?.approvers ?? []),
    defaultApprovalTtlMs: (scope.approvals?.default_ttl_s ?? 3600) * 1000,
    maxActions: scope.limits?.max_actions,
    expiresMs: expires !== undefined ? Date.parse(expires) : undefined,
    byAction: new Map(),
  };
  compiled.set(scope, result);
  lastScope = scope;
  lastCompiled = result;
  return result;
}
