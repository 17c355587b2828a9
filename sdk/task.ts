import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  Action,
  Agent,
  ApprovalDenied,
  ApprovalGranted,
  ApprovalRequested,
  CredentialIssued,
  CredentialRevoked,
  EventType,
  TaskDelegated,
  TaskEnded,
  TaskScopeChanged,
} from '../schemas/index.js';
import { RecordFailedError, TaskEndedError } from './errors.js';
import type { Outbox } from './outbox.js';
import type { Reporter } from './report.js';
import { sealEvent, type WireEvent } from './seal.js';
import { type WrapToolOptions, wrapTool } from './wrap-tool.js';

/** Envelope fields a caller may set per event (W3C trace context, a known occurrence time). */
export interface EventExtras {
  occurred_at?: string;
  trace_id?: string;
  span_id?: string;
}

/** What a recording call returns: enough to reference the event (e.g. approval targets). */
export interface Recorded {
  event_id: string;
  seq: number;
  hash: string;
}

export interface TaskContext {
  outbox: Outbox;
  reporter: Reporter;
  tenant: string;
  agent: z.input<typeof Agent>;
  taskId: string;
  parentTaskId?: string;
}

const recorded = (e: WireEvent): Recorded => ({ event_id: e.event_id, seq: e.seq, hash: e.hash });

/**
 * One declared task. Numbers its events (seq gap-free from 1) and chains them (prev_hash/hash);
 * both are assigned when the outbox admits the event, so they follow call order.
 */
export class TaskHandle {
  private seq = 0;
  private prevHash: string | undefined;
  private ended = false;

  constructor(private readonly ctx: TaskContext) {}

  get id(): string {
    return this.ctx.taskId;
  }

  /** Record one event of this task. The public methods below are typed shortcuts. */
  record(type: EventType, data: Record<string, unknown>, extras: EventExtras = {}): Promise<Recorded> {
    if (this.ended) return Promise.reject(new TaskEndedError(`task ${this.id} has ended`));
    if (type === 'task.ended') this.ended = true;
    return this.ctx.outbox
      .admit(() => {
        const event = sealEvent(
          {
            event_id: randomUUID(),
            schema_version: 1,
            type,
            occurred_at: extras.occurred_at ?? new Date().toISOString(),
            tenant: this.ctx.tenant,
            agent: this.ctx.agent,
            task_id: this.ctx.taskId,
            parent_task_id: this.ctx.parentTaskId,
            seq: this.seq + 1,
            prev_hash: this.prevHash,
            trace_id: extras.trace_id,
            span_id: extras.span_id,
            data,
          },
          { maxBytes: this.ctx.outbox.maxEventBytes },
        );
        // Only a sealed (valid) event takes the number: a refused one leaves no gap.
        this.seq = event.seq;
        this.prevHash = event.hash;
        if ((event.data.adjusted?.length ?? 0) > 0) this.ctx.reporter.count('adjusted');
        return event;
      })
      .then(recorded, (err) => {
        if (type === 'task.ended') this.ended = false;
        throw err;
      });
  }

  credentialIssued(data: z.input<typeof CredentialIssued>, extras?: EventExtras) {
    return this.record('credential.issued', data, extras);
  }
  credentialRevoked(data: z.input<typeof CredentialRevoked>, extras?: EventExtras) {
    return this.record('credential.revoked', data, extras);
  }
  approvalRequested(data: z.input<typeof ApprovalRequested>, extras?: EventExtras) {
    return this.record('approval.requested', data, extras);
  }
  approvalGranted(data: z.input<typeof ApprovalGranted>, extras?: EventExtras) {
    return this.record('approval.granted', data, extras);
  }
  approvalDenied(data: z.input<typeof ApprovalDenied>, extras?: EventExtras) {
    return this.record('approval.denied', data, extras);
  }
  scopeChanged(data: z.input<typeof TaskScopeChanged>, extras?: EventExtras) {
    return this.record('task.scope_changed', data, extras);
  }
  action(data: z.input<typeof Action>, extras?: EventExtras) {
    return this.record('action', data, extras);
  }

  /**
   * Hand a sub-scope to another agent. Returns the child task id; the child agent declares its
   * own task with `parent_task_id` set to this task's id and `declared_by: {kind: 'task', id}`.
   */
  async delegate(
    data: Omit<z.input<typeof TaskDelegated>, 'child_task_id'> & { child_task_id?: string },
    extras?: EventExtras,
  ): Promise<Recorded & { child_task_id: string }> {
    const child_task_id = data.child_task_id ?? randomUUID();
    const r = await this.record('task.delegated', { ...data, child_task_id }, extras);
    return { ...r, child_task_id };
  }

  end(data: z.input<typeof TaskEnded>, extras?: EventExtras) {
    return this.record('task.ended', data, extras);
  }

  /** Wrap a tool function so each call records an `action` (see wrap-tool.ts). */
  wrapTool<A extends unknown[], R>(
    name: string,
    opts: WrapToolOptions<A, R>,
    fn: (...args: A) => R | Promise<R>,
  ): (...args: A) => Promise<R> {
    return wrapTool(this, name, opts, fn, (err) => this.unrecorded(err, name));
  }

  /** A failed tool call's action could not be recorded: it cannot be thrown, so it is surfaced. */
  private unrecorded(err: Error, tool: string): void {
    this.ctx.reporter.count('unrecorded');
    this.ctx.reporter.surface(
      new RecordFailedError(
        `the action of a failed call to ${tool} (task ${this.id}) was not recorded: ${err.message}`,
        {
          cause: err,
        },
      ),
      { task_id: this.id, tool },
    );
  }
}
