import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs, steadyBackoffMs } from './backoff.js';

describe('backoff', () => {
  it('doubles the ceiling per attempt up to the max, with full jitter below it', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, 100, 1000, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(0);
    const samples = Array.from({ length: 2000 }, () => backoffMs(4, 100, 10_000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(800);
    // Full jitter: spread over the whole range, not clustered at the ceiling.
    expect(samples.filter((s) => s < 400).length).toBeGreaterThan(800);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('steadyBackoffMs', () => {
  it('doubles up to the cap, with bounded jitter', () => {
    const p = { initialMs: 100, maxMs: 1_000 };
    expect(steadyBackoffMs(1, p, () => 0.5)).toBe(100);
    expect(steadyBackoffMs(3, p, () => 0.5)).toBe(400);
    expect(steadyBackoffMs(10, p, () => 0.5)).toBe(1_000);
    expect(steadyBackoffMs(2, p, () => 0)).toBe(160);
    expect(steadyBackoffMs(2, p, () => 1)).toBe(240);
  });
});
