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

export function compileScope(scope: Scope): CompiledScope {
  const hit = compiled.get(scope);
  if (hit) return hit;
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
  };
  compiled.set(scope, result);
  return result;
}
