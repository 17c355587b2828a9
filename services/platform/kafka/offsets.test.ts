import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offsets.js';

// The one offset tracker, in the three shapes the stages use it: a unit per alert with one part
// per destination (alerter), a unit per batch spanning partitions (ingester), a unit per
// snapshot epoch over seeded partitions (detector).

describe('OffsetTracker', () => {
  it('commits only up to the lowest offset whose unit is not done (one unit per alert)', () => {
    const t = new OffsetTracker('a');
    const u10 = t.unit(2); // two destinations
    const u11 = t.unit(1);
    t.take(0, '10', u10);
    t.take(0, '11', u11);
    t.take(0, '12'); // no route: durable at once
    expect(t.committable()).toEqual([{ topic: 'a', partition: 0, offset: '10' }]);
    t.markCommitted(0, '10');
    u11.done();
    expect(t.committable()).toEqual([]);
    u10.done();
    expect(t.committable()).toEqual([]); // one destination of 10 still open
    u10.done();
    expect(t.committable()).toEqual([{ topic: 'a', partition: 0, offset: '13' }]);
    expect(t.pendingCount).toBe(0);
  });

  it('tracks partitions independently and forgets revoked ones', () => {
    const t = new OffsetTracker('a');
    const u = t.unit();
    t.take(0, '5', u);
    t.take(1, '7');
    expect(t.committable()).toEqual([
      { topic: 'a', partition: 0, offset: '5' },
      { topic: 'a', partition: 1, offset: '8' },
    ]);
    t.retain([1]);
    u.done(); // late completion of a revoked partition's work is harmless
    expect(t.committable()).toEqual([{ topic: 'a', partition: 1, offset: '8' }]);
  });

  it('a batch unit spans partitions; the next batch holds the commit point at its first offset', () => {
    const t = new OffsetTracker('e');
    const first = t.unit();
    for (const [p, o] of [
      [0, 1],
      [0, 2],
      [3, 9],
    ] as const)
      t.take(p, String(o), first);
    const second = t.unit();
    t.take(0, '3', second);
    expect([...first.ranges.values()].map((r) => [r.partition, r.first, r.last])).toEqual([
      [0, 1n, 2n],
      [3, 9n, 9n],
    ]);
    expect(t.committable()).toEqual([
      { topic: 'e', partition: 0, offset: '1' },
      { topic: 'e', partition: 3, offset: '9' },
    ]);
    first.done();
    expect(t.committable()).toEqual([
      { topic: 'e', partition: 0, offset: '3' },
      { topic: 'e', partition: 3, offset: '10' },
    ]);
  });

  it('never commits past pending work when a refetch goes below what was taken', () => {
    const t = new OffsetTracker('e');
    const a = t.unit();
    t.take(0, '10', a);
    t.take(0, '11', a);
    const b = t.unit();
    t.take(0, '8', b); // redelivered from the committed offset after a rebalance
    a.done();
    expect(t.committable()).toEqual([{ topic: 'e', partition: 0, offset: '8' }]);
    t.markCommitted(0, '8');
    b.done();
    expect(t.committable()).toEqual([{ topic: 'e', partition: 0, offset: '12' }]);
  });

  it('seeded positions are what a snapshot records; an epoch unit makes them committable', () => {
    const t = new OffsetTracker('e');
    t.seed(0, 100n);
    t.seed(1, 0n);
    const epoch = t.unit();
    t.take(0, '100', epoch);
    t.take(0, '101', epoch);
    expect(t.nextOf(0)).toBe(102n);
    expect(t.positions()).toEqual(
      new Map([
        [0, 102n],
        [1, 0n],
      ]),
    );
    expect(t.committable()).toEqual([
      { topic: 'e', partition: 0, offset: '100' },
      { topic: 'e', partition: 1, offset: '0' },
    ]);
    epoch.done();
    expect(t.committable().find((c) => c.partition === 0)?.offset).toBe('102');
  });
});
