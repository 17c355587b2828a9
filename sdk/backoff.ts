export interface RetryOptions {
  /** First delay ceiling; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts per flush round before the error is surfaced (events stay buffered). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryOptions = { baseDelayMs: 200, maxDelayMs: 30_000, maxAttempts: 8 };

/** Longest Retry-After honoured; a server asking for more is treated as asking for this. */
const MAX_RETRY_AFTER_MS = 300_000;

/**
 * Exponential backoff with full jitter (uniform in [0, min(max, base·2^attempt)]), so many
 * agents that failed together do not retry together. A server's Retry-After is a floor.
 */
export function retryDelayMs(
  attempt: number,
  opts: RetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.min(MAX_RETRY_AFTER_MS, retryAfterMs) + Math.floor(random() * opts.baseDelayMs);
}
