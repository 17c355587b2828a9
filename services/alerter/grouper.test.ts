import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Batch, Grouper } from './grouper.js';
import { makeAlert } from './testing.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(waitMs = 100, intervalMs = 1000) {
  const batches: Batch<number>[] = [];
  const g = new Grouper<number>({ waitMs, intervalMs }, (b) => batches.push(b));
  return { g, batches };
}

describe('Grouper', () => {
  it('folds ten alerts with one dedup key within the wait into one batch of ten', async () => {
    const { g, batches } = setup();
    for (let i = 0; i < 10; i++) {
      g.add(makeAlert({ dedup_key: 'same' }), i);
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.items.map((i) => i.ticket)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches[0]).toMatchObject({ dedup_key: 'same', sequence: 1, total: 10 });
  });

  it('keeps different keys and statuses apart', async () => {
    const { g, batches } = setup();
    g.add(makeAlert({ dedup_key: 'a' }), 1);
    g.add(makeAlert({ dedup_key: 'b' }), 2);
    g.add(makeAlert({ dedup_key: 'a', status: 'resolved' }), 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches.map((b) => [b.dedup_key, b.status, b.items.length])).toEqual([
      ['a', 'firing', 1],
      ['b', 'firing', 1],
      ['a', 'resolved', 1],
    ]);
  });

  it('holds later alerts for the interval and sends one follow-up with their count', async () => {
    const { g, batches } = setup(100, 1000);
    g.add(makeAlert({ dedup_key: 'k' }), 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toHaveLength(1);
    for (let i = 2; i <= 4; i++) g.add(makeAlert({ dedup_key: 'k' }), i);
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toHaveLength(2);
    expect(batches[1]).toMatchObject({ sequence: 2, total: 4 });
    expect(batches[1]!.items).toHaveLength(3);
    // A quiet interval closes the group; the next alert opens a fresh one.
    await vi.advanceTimersByTimeAsync(1000);
    g.add(makeAlert({ dedup_key: 'k' }), 5);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches[2]).toMatchObject({ sequence: 1, total: 1 });
  });

  it('flush emits everything held at once (shutdown)', () => {
    const { g, batches } = setup(10_000, 10_000);
    g.add(makeAlert({ dedup_key: 'x' }), 1);
    g.add(makeAlert({ dedup_key: 'y' }), 2);
    expect(g.held).toBe(2);
    g.flush();
    expect(batches).toHaveLength(2);
    expect(g.held).toBe(0);
  });

  it('groups a status follow-up apart from the page of its dedup key', async () => {
    const { g, batches } = setup();
    const alert = makeAlert({ dedup_key: 'k' });
    g.add(alert, 1);
    g.add(alert, 2, 'acknowledged');
    g.add(alert, 3, 'resolved');
    await vi.advanceTimersByTimeAsync(100);
    expect(batches.map((b) => [b.status, b.items.map((i) => i.ticket)])).toEqual([
      ['firing', [1]],
      ['acknowledged', [2]],
      ['resolved', [3]],
    ]);
  });
});
