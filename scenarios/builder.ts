import { createHash } from 'node:crypto';
import {
  type ActionData,
  type AgentEvent,
  type AgentEventInput,
  AgentEvent as AgentEventSchema,
  type EventType,
  eventHash,
  type ScopeInput,
  type Sighting,
} from '../schemas/index.js';

// Builds one task's event stream the way a collector and the gateway would: valid v1 events,
// gap-free seq, prev_hash/hash per schemas/chain.ts, received_at a little after occurred_at.
// Used by the scenario catalogue, the detector's unit tests, the demo and the benchmarks.

/** Keyed fingerprint as the gateway would compute it (fixed test key). */
export function fp(value: string): string {
  return createHash('sha256').update(`agenttrail-test-key:${value}`).digest('hex').slice(0, 16);
}

export interface StreamOptions {
  tenant?: string;
  taskId: string;
  agentId?: string;
  workloadIdentity?: string;
  parentTaskId?: string;
  /** Time of the first event (ms since epoch). */
  startMs?: number;
  /** Gateway delay added to occurred_at to make received_at. */
  receiveDelayMs?: number;
  /** Skip zod parsing (benchmarks): the caller supplies complete, valid payloads. */
  trusted?: boolean;
}

export interface EventExtras {
  /** Milliseconds after the previous event (default 1000). */
  dtMs?: number;
  secrets?: Sighting[];
  entities?: Sighting[];
  eventId?: string;
  receivedAtMs?: number;
}

export const DEFAULT_START_MS = Date.parse('2026-06-01T09:00:00.000Z');

export class TaskStream {
  readonly tenant: string;
  readonly taskId: string;
  readonly agentId: string;
  private readonly opts: StreamOptions;
  private seq = 0;
  private prevHash: string | undefined;
  private nowMs: number;
  private readonly out: AgentEvent[] = [];

  constructor(opts: StreamOptions) {
    this.opts = opts;
    this.tenant = opts.tenant ?? 'acme';
    this.taskId = opts.taskId;
    this.agentId = opts.agentId ?? 'agent-ops';
    this.nowMs = opts.startMs ?? DEFAULT_START_MS;
  }

  get timeMs(): number {
    return this.nowMs;
  }

  iso(offsetMs = 0): string {
    return new Date(this.nowMs + offsetMs).toISOString();
  }

  /** Append one event of any type. */
  event<T extends EventType>(
    type: T,
    data: Extract<AgentEventInput, { type: T }>['data'],
    extra: EventExtras = {},
  ): this {
    if (this.seq > 0) this.nowMs += extra.dtMs ?? 1000;
    this.seq++;
    const agent: AgentEventInput['agent'] = { id: this.agentId };
    if (this.opts.workloadIdentity !== undefined) agent.workload_identity = this.opts.workloadIdentity;
    const raw: Record<string, unknown> = {
      event_id: extra.eventId ?? `${this.taskId}.${this.seq}`,
      schema_version: 1,
      type,
      occurred_at: new Date(this.nowMs).toISOString(),
      received_at: new Date(
        extra.receivedAtMs ?? this.nowMs + (this.opts.receiveDelayMs ?? 40),
      ).toISOString(),
      tenant: this.tenant,
      agent,
      task_id: this.taskId,
      seq: this.seq,
      data,
    };
    if (this.opts.parentTaskId !== undefined) raw.parent_task_id = this.opts.parentTaskId;
    if (this.prevHash !== undefined) raw.prev_hash = this.prevHash;
    if (extra.secrets) raw.secrets = extra.secrets;
    if (extra.entities) raw.entities = extra.entities;
    const event = (this.opts.trusted ? raw : AgentEventSchema.parse(raw)) as AgentEvent;
    event.hash = eventHash(event as unknown as Record<string, unknown>);
    this.prevHash = event.hash;
    this.out.push(event);
    return this;
  }

  declared(
    scope: ScopeInput,
    opts: { intent?: string; by?: string; expiresAt?: string } = {},
    extra: EventExtras = {},
  ): this {
    const data: Record<string, unknown> = {
      intent: opts.intent ?? 'routine task',
      declared_by: {
        kind: opts.by?.startsWith('task:') ? 'task' : 'human',
        id: (opts.by ?? 'alice@acme.example').replace(/^task:/, ''),
      },
      scope,
    };
    if (opts.expiresAt !== undefined) data.expires_at = opts.expiresAt;
    return this.event('task.declared', data as never, extra);
  }

  action(data: Partial<ActionData> & Pick<ActionData, 'tool' | 'operation'>, extra: EventExtras = {}): this {
    return this.event('action', { outcome: 'ok', data_classes: [], ...data } as never, extra);
  }

  credential(
    id: string,
    expiresInMs = 3_600_000,
    opts: { forTask?: string; kind?: string } = {},
    extra: EventExtras = {},
  ): this {
    const data: Record<string, unknown> = {
      credential_id: id,
      kind: opts.kind ?? 'oauth_token',
      scopes: [],
      expires_at: new Date(this.nowMs + (extra.dtMs ?? 1000) + expiresInMs).toISOString(),
    };
    if (opts.forTask !== undefined) data.issued_for_task = opts.forTask;
    return this.event('credential.issued', data as never, extra);
  }

  revoke(id: string, extra: EventExtras = {}): this {
    return this.event('credential.revoked', { credential_id: id }, extra);
  }

  grant(
    approvalId: string,
    approver: string,
    target: { action_id?: string; tool?: string; operation?: ActionData['operation']; resource?: string },
    opts: { expiresInMs?: number; maxUses?: number } = {},
    extra: EventExtras = {},
  ): this {
    const data: Record<string, unknown> = {
      approval_id: approvalId,
      approver,
      target,
      max_uses: opts.maxUses ?? 1,
    };
    if (opts.expiresInMs !== undefined)
      data.expires_at = new Date(this.nowMs + (extra.dtMs ?? 1000) + opts.expiresInMs).toISOString();
    return this.event('approval.granted', data as never, extra);
  }

  deny(approvalId: string, approver: string, extra: EventExtras = {}): this {
    return this.event('approval.denied', { approval_id: approvalId, approver }, extra);
  }

  scopeChanged(
    scope: ScopeInput,
    opts: { reason?: string; approvalId?: string; intent?: string } = {},
    extra: EventExtras = {},
  ): this {
    const data: Record<string, unknown> = {
      scope,
      reason: opts.reason ?? 'needs more access',
      changed_by: { kind: 'service', id: 'agent-runtime' },
    };
    if (opts.approvalId !== undefined) data.approval_id = opts.approvalId;
    if (opts.intent !== undefined) data.intent = opts.intent;
    return this.event('task.scope_changed', data as never, extra);
  }

  delegate(childTaskId: string, scope: ScopeInput, extra: EventExtras = {}): this {
    return this.event('task.delegated', { child_task_id: childTaskId, scope, intent: 'sub-task' }, extra);
  }

  ended(outcome: 'completed' | 'failed' | 'cancelled' = 'completed', extra: EventExtras = {}): this {
    return this.event('task.ended', { outcome }, extra);
  }

  /** Advance the clock without an event. */
  wait(ms: number): this {
    this.nowMs += ms;
    return this;
  }

  get lastEventId(): string {
    return this.out[this.out.length - 1]!.event_id;
  }

  events(): AgentEvent[] {
    return [...this.out];
  }
}

/** Interleave several streams by occurred_at (stable), as a shared topic would carry them. */
export function interleave(streams: readonly AgentEvent[][]): AgentEvent[] {
  return streams.flat().sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));
}
