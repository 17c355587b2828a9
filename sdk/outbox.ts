import { DEFAULT_RETRY, type RetryOptions, retryDelayMs } from './backoff.js';
import { BatchRejectedError, BufferFullError, ClosedError, GatewayUnavailableError } from './errors.js';
import { describeRefusal, refusedIndexes } from './refusal.js';
import type { Reporter } from './report.js';
import { sealedBytes, type WireEvent } from './seal.js';
import type { SendResult, Transport } from './transport.js';

// The bounded buffer between the agent and the gateway, and the one sender that drains it.
//
// Policy when full: BACKPRESSURE, then refuse. A recording call waits (FIFO) for room for up to
// `bufferFullTimeoutMs`, then rejects with BufferFullError. We never drop an admitted event to
// make room: for an audit product a silently missing event is worse than a slow agent, and a
// dropped event would also leave a seq gap that the detector must report as tampering. An event
// is sealed (seq + hash) only when admitted, so a refused one leaves no gap in the chain.
//
// Delivery: one batch in flight at a time, so a task's events reach the gateway in seq order. A
// batch is cut by count (`batchSize`) and by bytes (`maxBatchBytes`, kept under the gateway's
// body limit); an event bigger than the byte budget on its own goes alone. Transient failures
// are retried with backoff and the batch stays buffered until accepted. A permanent 4xx is
// never retried: the events the gateway names (per-event results) are refused and surfaced
// (reporter: log, onError, stats; the next flush() rejects), and the rest of the batch, which
// an all-or-nothing gateway did not store either, is sent again without them. A 413 that names
// no event means the request as a whole was too large: it is split in two, down to one event.

export interface OutboxOptions {
  transport: Transport;
  capacity: number;
  batchSize: number;
  /** Most bytes of one request body (the JSON array). */
  maxBatchBytes: number;
  flushIntervalMs: number;
  bufferFullTimeoutMs: number;
  retry?: Partial<RetryOptions>;
  reporter: Reporter;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** An admitted event, its size as sent, and its admission number (1, 2, …). */
interface Queued {
  event: WireEvent;
  bytes: number;
  n: number;
}

interface Admission {
  make: () => WireEvent;
  resolve: (e: WireEvent) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

interface FlushWaiter {
  /** Admission number of the last event it waits for. */
  target: number;
  errors: Error[];
  resolve: () => void;
  reject: (err: Error) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Outbox {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private readonly admissions: Admission[] = [];
  private readonly flushWaiters: FlushWaiter[] = [];
  private admitted = 0;
  private pumping = false;
  private warnedTooLarge = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly retry: RetryOptions;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: OutboxOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.sleep = opts.sleep ?? defaultSleep;
    this.timer = setInterval(() => {
      if (this.queue.length > 0) void this.pump(true);
    }, opts.flushIntervalMs);
    // The interval must not keep an otherwise finished agent alive; exit hooks flush instead.
    this.timer.unref();
  }

  /** Events admitted but not yet accepted or rejected by the gateway. */
  get pending(): number {
    return this.queue.length;
  }

  /** Largest event that fits a request on its own (the array's brackets aside). */
  get maxEventBytes(): number {
    return this.opts.maxBatchBytes - 2;
  }

  /**
   * Admit one event. `make` seals it (assigns seq, chains it) and runs only once there is room,
   * in call order, so the chain follows the order of calls.
   */
  admit(make: () => WireEvent): Promise<WireEvent> {
    if (this.closed) return Promise.reject(new ClosedError('the AgentTrail client is closed'));
    if (this.admissions.length === 0 && this.queue.length < this.opts.capacity) {
      try {
        return Promise.resolve(this.push(make()));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<WireEvent>((resolve, reject) => {
      const a: Admission = { make, resolve, reject };
      a.timer = setTimeout(() => {
        const i = this.admissions.indexOf(a);
        if (i >= 0) this.admissions.splice(i, 1);
        reject(
          new BufferFullError(
            `buffer of ${this.opts.capacity} events stayed full for ${this.opts.bufferFullTimeoutMs} ms`,
          ),
        );
      }, this.opts.bufferFullTimeoutMs);
      this.admissions.push(a);
      void this.pump(true);
    });
  }

  /** Resolves when every event admitted before the call was accepted. */
  flush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ target: this.admitted, errors: [], resolve, reject });
    });
    void this.pump(true);
    return p;
  }

  /** Flush, then refuse further events. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      this.closed = true;
      for (const a of this.admissions.splice(0)) {
        clearTimeout(a.timer);
        a.reject(new ClosedError('the AgentTrail client closed before the event was admitted'));
      }
    }
  }

  private push(event: WireEvent): WireEvent {
    const bytes = sealedBytes(event);
    this.queue.push({ event, bytes, n: ++this.admitted });
    this.queuedBytes += bytes;
    if (this.full()) void this.pump(false);
    return event;
  }

  /** A full batch is waiting, by count or by bytes (the array's commas and brackets included). */
  private full(): boolean {
    return (
      this.queue.length >= this.opts.batchSize ||
      this.queuedBytes + this.queue.length + 1 >= this.opts.maxBatchBytes
    );
  }

  /** The head of the queue, as many events as fit both limits; always at least one. */
  private nextBatch(): Queued[] {
    const batch: Queued[] = [];
    let bytes = 2;
    for (const q of this.queue) {
      if (batch.length >= this.opts.batchSize) break;
      const add = q.bytes + (batch.length > 0 ? 1 : 0);
      if (batch.length > 0 && bytes + add > this.opts.maxBatchBytes) break;
      batch.push(q);
      bytes += add;
    }
    return batch;
  }

  /** Admit waiting events while there is room, in order. */
  private admitWaiting(): void {
    while (this.admissions.length > 0 && this.queue.length < this.opts.capacity) {
      const a = this.admissions.shift()!;
      clearTimeout(a.timer);
      try {
        a.resolve(this.push(a.make()));
      } catch (err) {
        a.reject(err as Error);
      }
    }
  }

  /** Take these events out of the queue (accepted or refused) and wake who waited for them. */
  private settle(items: readonly Queued[], error?: Error): void {
    if (items.every((q, i) => this.queue[i] === q)) {
      this.queue.splice(0, items.length);
    } else {
      const gone = new Set(items);
      this.queue = this.queue.filter((q) => !gone.has(q));
    }
    for (const q of items) this.queuedBytes -= q.bytes;
    if (error) for (const w of this.flushWaiters) w.errors.push(error);
    // Refusals can settle events out of order: a waiter is done when none it waits for is left.
    const head = this.queue[0]?.n ?? Number.POSITIVE_INFINITY;
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const w = this.flushWaiters[i]!;
      if (head > w.target) {
        this.flushWaiters.splice(i, 1);
        if (w.errors.length > 0) w.reject(w.errors[0]!);
        else w.resolve();
      }
    }
    this.admitWaiting();
  }

  private async pump(force: boolean): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && (force || this.full() || this.waiting())) {
        const ok = await this.deliver(this.nextBatch());
        if (!ok) return;
        force = force && this.queue.length > 0;
      }
    } finally {
      this.pumping = false;
    }
  }

  private waiting(): boolean {
    return this.flushWaiters.length > 0 || this.admissions.length > 0;
  }

  /** false when retries ran out: what is left of the batch stays queued for a later round. */
  private async deliver(batch: Queued[]): Promise<boolean> {
    const result = await this.sendWithRetry(batch);
    if (result === undefined) return false;
    if (result.kind === 'accepted') {
      this.opts.reporter.count('accepted', batch.length);
      this.settle(batch);
      return true;
    }
    const named = refusedIndexes(result.details, batch.length);
    if (named.length > 0 && named.length < batch.length) {
      this.refuse(
        named.map((i) => batch[i]!),
        result,
        named,
      );
      const refused = new Set(named);
      return this.deliver(batch.filter((_, i) => !refused.has(i)));
    }
    if (result.status === 413 && named.length === 0 && batch.length > 1) {
      this.warnTooLarge(batch);
      // Halves in order, so each task's events still arrive in seq order.
      const half = Math.ceil(batch.length / 2);
      return (await this.deliver(batch.slice(0, half))) && this.deliver(batch.slice(half));
    }
    this.refuse(batch, result, named.length > 0 ? named : batch.map((_, i) => i));
    return true;
  }

  private refuse(
    items: Queued[],
    result: Extract<SendResult, { kind: 'rejected' }>,
    indexes: readonly number[],
  ): void {
    const ids = items.map((q) => q.event.event_id);
    const err = new BatchRejectedError(
      result.status,
      describeRefusal(result.message, result.details, indexes, ids),
      ids,
      result.details,
    );
    this.opts.reporter.count('refused', items.length);
    this.opts.reporter.surface(err, { status: result.status, event_ids: ids.slice(0, 20) });
    this.settle(items, err);
  }

  /** Once per client: the byte budget is above what the gateway takes, which costs requests. */
  private warnTooLarge(batch: readonly Queued[]): void {
    if (this.warnedTooLarge) return;
    this.warnedTooLarge = true;
    const bytes = batch.reduce((n, q) => n + q.bytes + 1, 1);
    this.opts.reporter.warn(
      `agenttrail: the gateway refused a request of ${bytes} bytes as too large (413); splitting requests. Set maxBatchBytes (now ${this.opts.maxBatchBytes}) below the gateway's GATEWAY_MAX_BODY_BYTES`,
    );
  }

  /** The accepted or rejected answer; undefined when retries ran out (surfaced, events kept). */
  private async sendWithRetry(
    batch: readonly Queued[],
  ): Promise<Exclude<SendResult, { kind: 'retry' }> | undefined> {
    const events = batch.map((q) => q.event);
    let lastMessage = '';
    for (let attempt = 0; attempt < this.retry.maxAttempts; attempt++) {
      let result: SendResult;
      try {
        result = await this.opts.transport.send(events);
      } catch (err) {
        result = { kind: 'retry', message: (err as Error).message };
      }
      if (result.kind !== 'retry') return result;
      lastMessage = result.message;
      if (attempt + 1 < this.retry.maxAttempts) {
        await this.sleep(retryDelayMs(attempt, this.retry, result.retryAfterMs, this.opts.random));
      }
    }
    const err = new GatewayUnavailableError(
      `gateway unavailable after ${this.retry.maxAttempts} attempts (${lastMessage}); ${this.queue.length} event(s) stay buffered`,
    );
    this.opts.reporter.surface(err);
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
    return undefined;
  }
}
