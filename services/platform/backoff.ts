// Retry waits, shared by every stage. Two shapes:
//   - backoffMs: full jitter, for many clients retrying one receiver (pages, collectors), so a
//     recovering receiver is not hit in waves;
//   - steadyBackoffMs: ±20 % around the capped exponential, for one process retrying its own
//     store (ClickHouse, the dead-letter topic), where predictable waits matter more.

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): the wait after failed attempt n is uniform in [0, min(max, base * 2^(n-1))).
 * Full jitter spreads retries from many pages so a recovering receiver is not hit in waves.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Seconds or HTTP-date from a Retry-After header, as milliseconds; undefined when absent or bad. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with ±20 % jitter. */
export function steadyBackoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}
