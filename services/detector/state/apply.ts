import type { AgentEvent, EventOf, Scope } from '../../../schemas/index.js';
import type { DetectorConfig } from '../config.js';
import { compileScope } from '../scope/compile.js';
import type { StateChanges } from './changes.js';
import { idHash } from './ids.js';
import { internScope } from './intern.js';
import {
  type ApprovalState,
  type CredentialState,
  type DetectorState,
  TaskFlag,
  type TaskState,
} from './types.js';

// The reducer: folds one admitted event into the detector state. Deterministic and free of I/O.
// It updates the task in place rather than copying it: at 200,000 events/s a copy per event is
// the dominant cost, and the detector is the only owner of its state (snapshots are JSON copies).

const MAX_CHILDREN = 256;
const MAX_COVERED = 16;
const MAX_INTENT_CHARS = 256;
const MAX_TRUSTED_FPS = 64;

export interface ApplyContext {
  cfg: Readonly<DetectorConfig>;
  /** `occurred_at` of the event, parsed once by the caller. */
  atMs: number;
  /** Approval that covered this action (decided by the approval check on the pre-state). */
  coveredBy?: string | undefined;
  /**
   * Told of the units this event changes in place other than its own task (the caller notes
   * that one, as admission changes it too): a delegated child, a revoked credential.
   */
  changes?: StateChanges;
  /** The event's task when the caller has it already (the engine looked it up to admit the event). */
  task?: TaskState | undefined;
}

export function getTask(state: DetectorState, tenant: string, taskId: string): TaskState | undefined {
  return state.tasks.get(tenant)?.get(taskId);
}

export function newTask(event: AgentEvent, recentSeqs: number, id = event.task_id): TaskState {
  const task: TaskState = {
    id,
    tenant: event.tenant,
    agentId: event.agent.id,
    declared: false,
    ended: false,
    actions: 0,
    lastSeq: 0,
    lastAtMs: 0,
    recent: new Array<number>(recentSeqs).fill(0),
    flags: 0,
  };
  if (event.agent.workload_identity !== undefined) task.workloadIdentity = event.agent.workload_identity;
  return task;
}

export function getOrCreateTask(state: DetectorState, event: AgentEvent, recentSeqs: number): TaskState {
  let tenant = state.tasks.get(event.tenant);
  if (tenant === undefined) {
    tenant = new Map();
    state.tasks.set(event.tenant, tenant);
  }
  let task = tenant.get(event.task_id);
  if (task === undefined) {
    task = newTask(event, recentSeqs);
    tenant.set(event.task_id, task);
  }
  return task;
}

export function getCredential(state: DetectorState, tenant: string, id: string): CredentialState | undefined {
  return state.credentials.get(tenant)?.get(id);
}

function pushBounded<T>(list: T[], value: T, max: number): void {
  if (list.length >= max) list.shift();
  list.push(value);
}

function trustEntities(task: TaskState, event: AgentEvent): void {
  if (!event.entities || event.entities.length === 0) return;
  task.trustedFps ??= [];
  for (const e of event.entities) {
    if (!task.trustedFps.includes(e.fp)) pushBounded(task.trustedFps, e.fp, MAX_TRUSTED_FPS);
  }
}

function declare(task: TaskState, scope: Scope, declaredBy: string, intent: string | undefined): void {
  const s = internScope(scope);
  task.declared = true;
  task.scope = s;
  task.declaredScope = s;
  task.declaredBy = declaredBy;
  if (intent !== undefined) task.intent = intent.slice(0, MAX_INTENT_CHARS);
}

function applyDeclared(task: TaskState, event: EventOf<'task.declared'>): void {
  const d = event.data;
  declare(task, d.scope, `${d.declared_by.kind}:${d.declared_by.id}`, d.intent);
  if (d.expires_at !== undefined) task.expiresMs = Date.parse(d.expires_at);
  if (event.parent_task_id !== undefined) task.parent = event.parent_task_id;
  trustEntities(task, event);
}

/** A scope change counts as approved when it names an approval that was granted on this task. */
export function scopeChangeApproved(task: TaskState, approvalId: string | undefined): boolean {
  if (approvalId === undefined) return false;
  return task.approvals?.[approvalId]?.status === 'granted';
}

function applyScopeChanged(task: TaskState, event: EventOf<'task.scope_changed'>): void {
  const d = event.data;
  task.scope = internScope(d.scope);
  task.flags &= ~TaskFlag.BudgetReported;
  if (scopeChangeApproved(task, d.approval_id)) {
    if (d.intent !== undefined) task.intent = d.intent.slice(0, MAX_INTENT_CHARS);
    trustEntities(task, event);
    delete task.unapprovedChangeSeq;
  } else {
    task.unapprovedChangeSeq = event.seq;
  }
}

function applyDelegated(
  state: DetectorState,
  task: TaskState,
  event: EventOf<'task.delegated'>,
  ctx: ApplyContext,
) {
  const d = event.data;
  task.children ??= [];
  if (!task.children.includes(d.child_task_id)) pushBounded(task.children, d.child_task_id, MAX_CHILDREN);
  // The child is declared by the delegation itself; its own task.declared (if any) may refine it.
  const tenant = state.tasks.get(event.tenant)!;
  let child = tenant.get(d.child_task_id);
  if (child === undefined) {
    child = newTask(event, ctx.cfg.recent_seqs, d.child_task_id);
    if (d.child_agent_id !== undefined) child.agentId = d.child_agent_id;
    delete child.workloadIdentity;
    tenant.set(d.child_task_id, child);
  }
  if (!child.declared) {
    declare(child, d.scope, `task:${task.id}`, d.intent ?? task.intent);
    if (task.expiresMs !== undefined) child.expiresMs = task.expiresMs;
  }
  child.parent = task.id;
  ctx.changes?.tasks.touch(child);
}

function applyCredentialIssued(state: DetectorState, event: EventOf<'credential.issued'>): void {
  let creds = state.credentials.get(event.tenant);
  if (creds === undefined) {
    creds = new Map();
    state.credentials.set(event.tenant, creds);
  }
  const d = event.data;
  creds.set(d.credential_id, {
    task: event.task_id,
    forTask: d.issued_for_task ?? event.task_id,
    kind: d.kind,
    expMs: Date.parse(d.expires_at),
    issuedEvent: event.event_id,
  });
}

function applyCredentialRevoked(
  state: DetectorState,
  event: EventOf<'credential.revoked'>,
  ctx: ApplyContext,
): void {
  const cred = getCredential(state, event.tenant, event.data.credential_id);
  if (cred !== undefined && cred.revokedMs === undefined) {
    cred.revokedMs = ctx.atMs;
    cred.revokedEvent = event.event_id;
    ctx.changes?.credentials.touch(cred);
  }
}

/**
 * A task's approvals, keyed by approval id: a null-prototype object, which V8 keeps as a hash
 * table from the start. Every approval id is new, and adding it to a `{}` made a hidden class per
 * id (~2 µs per grant, then dictionary mode anyway); the JSON of both is the same.
 */
function approvalsOf(task: TaskState): Record<string, ApprovalState> {
  task.approvals ??= Object.create(null) as Record<string, ApprovalState>;
  return task.approvals;
}

function applyApprovalGranted(task: TaskState, event: EventOf<'approval.granted'>, atMs: number): void {
  const d = event.data;
  const approvals = approvalsOf(task);
  const ttlMs = task.scope ? compileScope(task.scope).defaultApprovalTtlMs : 3_600_000;
  approvals[d.approval_id] = {
    status: 'granted',
    target: d.target,
    approver: d.approver,
    event: event.event_id,
    expiresMs: d.expires_at !== undefined ? Date.parse(d.expires_at) : atMs + ttlMs,
    usesLeft: d.max_uses,
  };
}

function applyAction(task: TaskState, event: EventOf<'action'>, ctx: ApplyContext): void {
  task.actions++;
  if (ctx.coveredBy !== undefined) {
    const approval = task.approvals?.[ctx.coveredBy];
    if (approval !== undefined) {
      approval.usesLeft = (approval.usesLeft ?? 1) - 1;
      approval.covered ??= [];
      pushBounded(approval.covered, event.event_id, MAX_COVERED);
    }
  }
  // Values first seen in tool output: untrusted origin for the provenance check.
  const max = ctx.cfg.max_output_fps_per_task;
  if (max > 0 && event.entities !== undefined) {
    for (const e of event.entities) {
      if (!e.path.startsWith('data.output')) continue;
      if (task.trustedFps?.includes(e.fp)) continue;
      task.outputFps ??= [];
      task.outputSrc ??= [];
      if (!task.outputFps.includes(e.fp)) {
        pushBounded(task.outputFps, e.fp, max);
        pushBounded(task.outputSrc, event.event_id, max);
      }
    }
  }
}

/** Record an event's position in the chain (seq, hash, id) without interpreting its payload. */
export function recordPosition(task: TaskState, event: AgentEvent, atMs: number): void {
  if (event.seq > task.lastSeq) {
    task.lastSeq = event.seq;
    task.lastHash = event.hash ?? null;
  }
  if (event.hash !== undefined) task.chained = true;
  task.recent[event.seq % task.recent.length] = idHash(event.event_id);
  if (atMs > task.lastAtMs) task.lastAtMs = atMs;
}

/** Fold one event into the state; returns the task it belongs to. */
export function applyEvent(state: DetectorState, event: AgentEvent, ctx: ApplyContext): TaskState {
  const task = ctx.task ?? getOrCreateTask(state, event, ctx.cfg.recent_seqs);
  recordPosition(task, event, ctx.atMs);
  switch (event.type) {
    case 'action':
      applyAction(task, event, ctx);
      break;
    case 'task.declared':
      applyDeclared(task, event);
      break;
    case 'task.scope_changed':
      applyScopeChanged(task, event);
      break;
    case 'task.delegated':
      applyDelegated(state, task, event, ctx);
      break;
    case 'task.ended':
      task.ended = true;
      break;
    case 'credential.issued':
      // A new object replaces any earlier one with the same id: it has no snapshot text yet.
      applyCredentialIssued(state, event);
      break;
    case 'credential.revoked':
      applyCredentialRevoked(state, event, ctx);
      break;
    case 'approval.requested': {
      const approvals = approvalsOf(task);
      if (approvals[event.data.approval_id] === undefined) {
        approvals[event.data.approval_id] = { status: 'requested', target: event.data.target };
      }
      break;
    }
    case 'approval.granted':
      applyApprovalGranted(task, event, ctx.atMs);
      break;
    case 'approval.denied': {
      const approvals = approvalsOf(task);
      const prior = approvals[event.data.approval_id];
      approvals[event.data.approval_id] = {
        ...(prior?.target ? { target: prior.target } : {}),
        status: 'denied',
        approver: event.data.approver,
        event: event.event_id,
      };
      break;
    }
  }
  return task;
}
