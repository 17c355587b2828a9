import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Agent, Principal, ScopeInput } from '../schemas/index.js';
import type { RetryOptions } from './backoff.js';
import { installExitHooks } from './exit-hooks.js';
import { Outbox } from './outbox.js';
import { type EventExtras, TaskHandle } from './task.js';
import { httpTransport, type Transport } from './transport.js';

export interface AgentTrailOptions {
  /** Gateway base URL. Required unless `transport` is given. */
  endpoint?: string;
  /** Collector API key (bound to `tenant` at the gateway). */
  apiKey?: string;
  tenant: string;
  agent: z.input<typeof Agent>;
  /** Replace HTTP (tests, custom channels). */
  transport?: Transport;
  /** Events per request (default 200; the gateway's batch limit is the upper bound). */
  batchSize?: number;
  /** Longest an event waits before it is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events held at most (default 10,000); see outbox.ts for the full policy. */
  bufferCapacity?: number;
  /** How long a recording call waits for room before BufferFullError (default 30 s). */
  bufferFullTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Called for every batch the gateway refused, and when retries run out. */
  onError?: (err: Error) => void;
  /** Flush when the event loop empties (default false). */
  flushOnExit?: boolean;
  /** Also flush on SIGTERM/SIGINT, then re-raise (default false). */
  flushOnSignals?: boolean;
  /** Test hooks. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface DeclareTaskInput {
  intent: string;
  scope: ScopeInput;
  declared_by: z.input<typeof Principal>;
  expires_at?: string;
  labels?: Record<string, string>;
  /** Default: a random UUID. */
  task_id?: string;
  /** Set when this task was delegated by another (see TaskHandle.delegate). */
  parent_task_id?: string;
}

export interface AgentTrail {
  declareTask(input: DeclareTaskInput, extras?: EventExtras): Promise<TaskHandle>;
  /** Resolves when every event recorded so far was accepted by the gateway. */
  flush(): Promise<void>;
  /** Flush, remove exit hooks, refuse further events. */
  close(): Promise<void>;
  /** Events recorded but not yet accepted. */
  readonly pending: number;
}

export function createAgentTrail(opts: AgentTrailOptions): AgentTrail {
  const transport =
    opts.transport ??
    (() => {
      if (!opts.endpoint || !opts.apiKey)
        throw new Error('createAgentTrail: endpoint and apiKey are required');
      return httpTransport({ endpoint: opts.endpoint, apiKey: opts.apiKey });
    })();
  const outbox = new Outbox({
    transport,
    capacity: opts.bufferCapacity ?? 10_000,
    batchSize: opts.batchSize ?? 200,
    flushIntervalMs: opts.flushIntervalMs ?? 1000,
    bufferFullTimeoutMs: opts.bufferFullTimeoutMs ?? 30_000,
    retry: opts.retry,
    onError: opts.onError,
    sleep: opts.sleep,
    random: opts.random,
  });
  const uninstall =
    opts.flushOnExit || opts.flushOnSignals
      ? installExitHooks(
          () => outbox.flush(),
          () => outbox.pending,
          { signals: opts.flushOnSignals ?? false, deadlineMs: 10_000 },
        )
      : () => undefined;

  return {
    async declareTask(input, extras) {
      const task = new TaskHandle({
        outbox,
        tenant: opts.tenant,
        agent: opts.agent,
        taskId: input.task_id ?? randomUUID(),
        parentTaskId: input.parent_task_id,
      });
      const { task_id: _id, parent_task_id: _parent, ...data } = input;
      await task.record('task.declared', data, extras);
      return task;
    },
    flush: () => outbox.flush(),
    async close() {
      uninstall();
      await outbox.close();
    },
    get pending() {
      return outbox.pending;
    },
  };
}
