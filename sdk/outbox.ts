import { DEFAULT_RETRY, type RetryOptions, retryDelayMs } from './backoff.js';
import { BatchRejectedError, BufferFullError, ClosedError, GatewayUnavailableError } from './errors.js';
import type { WireEvent } from './seal.js';
import type { Transport } from './transport.js';

// The bounded buffer between the agent and the gateway, and the one sender that drains it.
//
// Policy when full: BACKPRESSURE, then refuse. A recording call waits (FIFO) for room for up to
// `bufferFullTimeoutMs`, then rejects with BufferFullError. We never drop an admitted event to
// make room: for an audit product a silently missing event is worse than a slow agent, and a
// dropped event would also leave a seq gap that the detector must report as tampering. An event
// is sealed (seq + hash) only when admitted, so a refused one leaves no gap in the chain.
//
// Delivery: one batch in flight at a time, so a task's events reach the gateway in seq order.
// Transient failures are retried with backoff and the batch stays buffered until accepted;
// permanent 4xx rejections drop that batch and are surfaced (onError, and the next flush()
// rejects), because the same bytes can never succeed.

export interface OutboxOptions {
  transport: Transport;
  capacity: number;
  batchSize: number;
  flushIntervalMs: number;
  bufferFullTimeoutMs: number;
  retry?: Partial<RetryOptions>;
  onError?: (err: Error) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

interface Admission {
  make: () => WireEvent;
  resolve: (e: WireEvent) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

interface FlushWaiter {
  target: number;
  errors: Error[];
  resolve: () => void;
  reject: (err: Error) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Outbox {
  private readonly queue: WireEvent[] = [];
  private readonly admissions: Admission[] = [];
  private readonly flushWaiters: FlushWaiter[] = [];
  private admitted = 0;
  private settled = 0;
  private pumping = false;
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
    if (this.settled >= this.admitted) return Promise.resolve();
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
    this.queue.push(event);
    this.admitted++;
    if (this.queue.length >= this.opts.batchSize) void this.pump(false);
    return event;
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

  private settle(count: number, error?: Error): void {
    this.queue.splice(0, count);
    this.settled += count;
    if (error) for (const w of this.flushWaiters) w.errors.push(error);
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const w = this.flushWaiters[i]!;
      if (this.settled >= w.target) {
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
      while (this.queue.length > 0 && (force || this.queue.length >= this.opts.batchSize || this.waiting())) {
        const batch = this.queue.slice(0, this.opts.batchSize);
        const ok = await this.sendWithRetry(batch);
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

  /** false when retries ran out: the batch stays at the head of the queue for a later round. */
  private async sendWithRetry(batch: WireEvent[]): Promise<boolean> {
    let lastMessage = '';
    for (let attempt = 0; attempt < this.retry.maxAttempts; attempt++) {
      let result: Awaited<ReturnType<Transport['send']>>;
      try {
        result = await this.opts.transport.send(batch);
      } catch (err) {
        result = { kind: 'retry', message: (err as Error).message };
      }
      if (result.kind === 'accepted') {
        this.settle(batch.length);
        return true;
      }
      if (result.kind === 'rejected') {
        const err = new BatchRejectedError(
          result.status,
          result.message,
          batch.map((e) => e.event_id),
          result.details,
        );
        this.opts.onError?.(err);
        this.settle(batch.length, err);
        return true;
      }
      lastMessage = result.message;
      if (attempt + 1 < this.retry.maxAttempts) {
        await this.sleep(retryDelayMs(attempt, this.retry, result.retryAfterMs, this.opts.random));
      }
    }
    const err = new GatewayUnavailableError(
      `gateway unavailable after ${this.retry.maxAttempts} attempts (${lastMessage}); ${this.queue.length} event(s) stay buffered`,
    );
    this.opts.onError?.(err);
    for (const w of this.flushWaiters.splice(0)) w.reject(err);
    return false;
  }
}
