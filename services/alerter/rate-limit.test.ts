import { afterEach, describe, expect, it, vi } from 'vitest';
import { Semaphore, TokenBucket } from './rate-limit.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    let t = 0;
    const b = new TokenBucket(2, 3, () => t);
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
    expect(b.waitMs()).toBe(500);
    t = 499;
    expect(b.tryTake()).toBe(false);
    t = 500;
    expect(b.tryTake()).toBe(true);
    t = 100_000;
    expect([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()]).toEqual([true, true, true, false]);
  });

  it('serves waiters in order as tokens arrive', async () => {
    vi.useFakeTimers({ now: 0 });
    const b = new TokenBucket(10, 1);
    const order: number[] = [];
    await b.take();
    const waits = [1, 2, 3].map((i) => b.take().then(() => order.push(i)));
    await vi.advanceTimersByTimeAsync(150);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(Date.now()).toBeGreaterThanOrEqual(300);
  });
});

describe('Semaphore', () => {
  it('caps concurrency and hands slots over in order', async () => {
    const s = new Semaphore(2);
    const r1 = await s.acquire();
    await s.acquire();
    let third = false;
    const p = s.acquire().then((r) => {
      third = true;
      return r;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    r1();
    r1(); // releasing twice must not create a slot
    await p;
    expect(third).toBe(true);
    let fourth = false;
    void s.acquire().then(() => {
      fourth = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(fourth).toBe(false);
  });
});
