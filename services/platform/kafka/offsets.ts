// Which offsets of one topic may be committed, for every stage. A stage takes each message in
// (`take`), either as durable at once (poison already on the DLQ, a message with nothing to
// do) or into a `Durable` unit that the stage completes at its own durability point: the
// ingester's batch after its insert, an alert after every destination is final, the
// detector's snapshot. Per partition the commit point is the lowest offset of a unit not yet
// done, or one past the highest offset taken when all are done: a crash replays everything not
// durable, and nothing durable is committed twice or skipped.

/** The offsets of one partition a unit covers (also the ingester's insert-token input). */
export interface OffsetRange {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

interface Segment extends OffsetRange {
  unit: Durable;
}

/** Work that becomes durable at once: `parts` calls of `done()` (one per destination, say). */
export class Durable {
  /** Per partition, the offsets taken into this unit (first..last; gaps are other units'). */
  readonly ranges = new Map<number, OffsetRange>();

  constructor(private left: number) {}

  /** One part is durable; the unit is once every part is. */
  done(): void {
    if (this.left > 0) this.left--;
  }

  get isDone(): boolean {
    return this.left === 0;
  }
}

interface PartitionState {
  /** Units with offsets here, in the order they were first taken into. */
  segments: Segment[];
  /** One past the highest offset taken. */
  next: bigint | undefined;
  committed: bigint | undefined;
  /** The segment of the last take, the usual target of the next one. */
  last: Segment | undefined;
}

export class OffsetTracker {
  private readonly parts = new Map<number, PartitionState>();

  constructor(readonly topic: string) {}

  /** A unit that is durable after `parts` calls of `done()`; 0 parts: durable already. */
  unit(parts = 1): Durable {
    return new Durable(parts);
  }

  private state(partition: number): PartitionState {
    let s = this.parts.get(partition);
    if (!s) {
      s = { segments: [], next: undefined, committed: undefined, last: undefined };
      this.parts.set(partition, s);
    }
    return s;
  }

  /** Start a partition at `next` (taken and durable below it), e.g. from a snapshot. */
  seed(partition: number, next: bigint): void {
    const s = this.state(partition);
    if (s.next === undefined || next > s.next) s.next = next;
  }

  /** Offset taken in: durable once `unit` is done, or at once without a unit. */
  take(partition: number, offset: string, unit?: Durable): void {
    const s = this.state(partition);
    const o = BigInt(offset);
    if (s.next === undefined || o >= s.next) s.next = o + 1n;
    if (unit === undefined || unit.isDone) return;
    let seg = s.last;
    if (seg === undefined || seg.unit !== unit) {
      seg = unit.ranges.get(partition) as Segment | undefined;
      // A unit's range of a partition that was revoked and assigned again is a new segment.
      if (seg === undefined || !s.segments.includes(seg)) {
        seg = { topic: this.topic, partition, first: o, last: o, unit };
        unit.ranges.set(partition, seg);
        s.segments.push(seg);
      }
      s.last = seg;
    }
    // A refetch after a rebalance can go below what was taken before: widen, never narrow.
    if (o < seg.first) seg.first = o;
    if (o > seg.last) seg.last = o;
  }

  /** Per partition, the next offset not yet taken (what a snapshot of taken state records). */
  positions(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const [p, s] of this.parts) if (s.next !== undefined) out.set(p, s.next);
    return out;
  }

  /** The next offset not yet taken from `partition`, if any was. */
  nextOf(partition: number): bigint | undefined {
    return this.parts.get(partition)?.next;
  }

  /** Offsets to commit now (Kafka's "next offset to read"), only where they moved forward. */
  committable(): Array<{ topic: string; partition: number; offset: string }> {
    const out: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [partition, s] of this.parts) {
      if (s.next === undefined) continue;
      let point = s.next;
      let open = 0;
      for (const seg of s.segments) {
        if (seg.unit.isDone) continue;
        s.segments[open++] = seg;
        if (seg.first < point) point = seg.first;
      }
      s.segments.length = open;
      if (s.last?.unit.isDone) s.last = undefined;
      if (s.committed === undefined || point > s.committed)
        out.push({ topic: this.topic, partition, offset: point.toString() });
    }
    return out;
  }

  markCommitted(partition: number, offset: string): void {
    const s = this.parts.get(partition);
    if (s) s.committed = BigInt(offset);
  }

  /** Forget partitions no longer assigned: their pending work is replayed by the new owner. */
  retain(partitions: Iterable<number>): void {
    const keep = new Set(partitions);
    for (const p of this.parts.keys()) if (!keep.has(p)) this.parts.delete(p);
  }

  /** Units not yet done, over every partition (a unit spanning two partitions counts twice). */
  get pendingCount(): number {
    let n = 0;
    for (const s of this.parts.values()) for (const seg of s.segments) if (!seg.unit.isDone) n++;
    return n;
  }
}
