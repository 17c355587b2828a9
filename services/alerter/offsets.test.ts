import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offsets.js';

describe('OffsetTracker', () => {
  it('commits only up to the lowest unfinished offset', () => {
    const t = new OffsetTracker();
    t.begin(0, '10', 2); // two destinations
    t.begin(0, '11', 1);
    t.begin(0, '12', 0); // no route: final at once
    expect(t.committable()).toEqual([{ partition: 0, offset: '10' }]);
    t.markCommitted(0, '10');
    t.complete(0, '11');
    expect(t.committable()).toEqual([]);
    t.complete(0, '10');
    expect(t.committable()).toEqual([]); // one destination of 10 still open
    t.complete(0, '10');
    expect(t.committable()).toEqual([{ partition: 0, offset: '13' }]);
  });

  it('tracks partitions independently and forgets revoked ones', () => {
    const t = new OffsetTracker();
    t.begin(0, '5', 1);
    t.begin(1, '7', 0);
    expect(t.committable()).toEqual([
      { partition: 0, offset: '5' },
      { partition: 1, offset: '8' },
    ]);
    t.retain(new Set([1]));
    t.complete(0, '5'); // late completion of a revoked partition is ignored
    expect(t.committable()).toEqual([{ partition: 1, offset: '8' }]);
    expect(t.pendingCount).toBe(0);
  });
});
