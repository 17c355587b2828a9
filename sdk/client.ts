import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Agent, Principal, ScopeInput } from '../schemas/index.js';
import type { RetryOptions } from './backoff.js';
import { installExitHooks } from './exit-hooks.js';
import { Outbox } from './outbox.js';
import { type ClientStats, Reporter, type SdkLogger } from './report.js';
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
  /**
   * Bytes per request body (default 512 KiB, at least 16 KiB). Keep it under the gateway's
   * GATEWAY_MAX_BODY_BYTES (default 5 MiB). An action larger than this on its own has its
   * output excerpt, error and then arguments cut to fit (listed in `data.adjusted`); any
   * other event larger than this is sent alone.
   */
  maxBatchBytes?: number;
  /** Longest an event waits before it is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events held at most (default 10,000); see outbox.ts for the full policy. */
  bufferCapacity?: number;
  /** How long a recording call waits for room before BufferFullError (default 30 s). */
  bufferFullTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /**
   * Called for every event the gateway refused (BatchRejectedError), when retries run out
   * (GatewayUnavailableError), and for a failed tool call's action that could not be recorded
   * (RecordFailedError). The same goes to `logger` and is counted in `stats()`.
   */
  onError?: (err: Error) => void;
  /** Where those are logged as warnings (default `console`; `false`: only onError and stats). */
  logger?: SdkLogger | false;
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
  /** Counts since creation: accepted, refused, unrecorded, adjusted events, and pending. */
  stats(): ClientStats;
}

export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;
/** Room for the largest envelope with a fitted action (agent fields at their limits, escaped). */
export const MIN_MAX_BATCH_BYTES = 16 * 1024;

export function createAgentTrail(opts: AgentTrailOptions): AgentTrail {
  const transport =
    opts.transport ??
    (() => {
      if (!opts.endpoint || !opts.apiKey)
        throw new Error('createAgentTrail: endpoint and apiKey are required');
      return httpTransport({ endpoint: opts.endpoint, apiKey: opts.apiKey });
    })();
  const maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < MIN_MAX_BATCH_BYTES) {
    throw new Error(`createAgentTrail: maxBatchBytes must be an integer >= ${MIN_MAX_BATCH_BYTES}`);
  }
  const reporter = new Reporter(opts.onError, opts.logger ?? console);
  const outbox = new Outbox({
    transport,
    capacity: opts.bufferCapacity ?? 10_000,
    batchSize: opts.batchSize ?? 200,
    maxBatchBytes,
    flushIntervalMs: opts.flushIntervalMs ?? 1000,
    bufferFullTimeoutMs: opts.bufferFullTimeoutMs ?? 30_000,
    retry: opts.retry,
    reporter,
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
        reporter,
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
    stats: () => ({ ...reporter.snapshot(), pending: outbox.pending }),
  };
}
