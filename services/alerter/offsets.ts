// Which offset may be committed: per partition, the lowest offset whose alert is not yet
// final, or one past the highest seen when all are final. Committing only that far means a
// crash replays every alert that was not finished, and no finished one is skipped.

interface PartitionState {
  /** Offsets taken in and not yet final, in arrival (= offset) order. */
  pending: Map<bigint, number>;
  nextAfterSeen: bigint | undefined;
  lastCommitted: bigint | undefined;
}

export class OffsetTracker {
  private readonly parts = new Map<number, PartitionState>();

  private state(partition: number): PartitionState {
    let s = this.parts.get(partition);
    if (!s) {
      s = { pending: new Map(), nextAfterSeen: undefined, lastCommitted: undefined };
      this.parts.set(partition, s);
    }
    return s;
  }

  /** Register an offset that needs `parts` completions (one per destination); 0 = final already. */
  begin(partition: number, offset: string, parts: number): void {
    const s = this.state(partition);
    const o = BigInt(offset);
    if (parts > 0) s.pending.set(o, parts);
    if (s.nextAfterSeen === undefined || o + 1n > s.nextAfterSeen) s.nextAfterSeen = o + 1n;
  }

  /** One part of an offset is final. */
  complete(partition: number, offset: string): void {
    const s = this.parts.get(partition);
    const o = BigInt(offset);
    const left = s?.pending.get(o);
    if (s === undefined || left === undefined) return; // partition revoked meanwhile
    if (left <= 1) s.pending.delete(o);
    else s.pending.set(o, left - 1);
  }

  /** Offsets to commit now (Kafka's "next offset to read"), only where they moved. */
  committable(): Array<{ partition: number; offset: string }> {
    const out: Array<{ partition: number; offset: string }> = [];
    for (const [partition, s] of this.parts) {
      if (s.nextAfterSeen === undefined) continue;
      let next = s.nextAfterSeen;
      // Map iteration is insertion order, and offsets arrive in order per partition.
      for (const o of s.pending.keys()) {
        next = o;
        break;
      }
      if (s.lastCommitted === undefined || next > s.lastCommitted)
        out.push({ partition, offset: next.toString() });
    }
    return out;
  }

  markCommitted(partition: number, offset: string): void {
    const s = this.parts.get(partition);
    if (s) s.lastCommitted = BigInt(offset);
  }

  /** Forget partitions no longer assigned (after a rebalance); their pending work is replayed by the new owner. */
  retain(partitions: Set<number>): void {
    for (const p of this.parts.keys()) if (!partitions.has(p)) this.parts.delete(p);
  }

  get pendingCount(): number {
    let n = 0;
    for (const s of this.parts.values()) n += s.pending.size;
    return n;
  }
}
