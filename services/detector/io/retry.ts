import { steadyBackoffMs } from '../../platform/backoff.js';

export interface RetryHooks {
  /** Called after each failure, before the wait. */
  onError(err: unknown, attempt: number, retryInMs: number): void;
  /** Called at least every `sliceMs` while waiting (Kafka heartbeats). */
  onWait(): Promise<void>;
  /** Give up (rethrow) once this returns true, e.g. when a shutdown deadline passed. */
  stop?(): boolean;
  /** Errors that retrying cannot fix (e.g. ClickHouse refusing the data): rethrown at once. */
  permanent?(err: unknown): boolean;
}

/**
 * Retry `op` until it succeeds: alerts are never dropped. Holding on is safe because nothing
 * after the failed step is committed meanwhile, and intake stops while the batch waits.
 */
export async function retryForever<T>(
  op: () => Promise<T>,
  hooks: RetryHooks,
  policy = { initialMs: 200, maxMs: 10_000, sliceMs: 2_000 },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (hooks.stop?.() || hooks.permanent?.(err)) throw err;
      const delay = steadyBackoffMs(attempt, policy);
      hooks.onError(err, attempt, delay);
      const until = Date.now() + delay;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, Math.min(policy.sliceMs, until - Date.now())));
        await hooks.onWait();
      }
    }
  }
}
