import { createHash } from 'node:crypto';
import type { EventRow } from '../platform/clickhouse/event-row.js';
import type { DeadLetter } from '../platform/kafka/dead-letter.js';
import { toLine } from './rows.js';

// What the ingester holds between commits: rows to insert, dead letters to send, and the
// offset range of every partition they came from. Offsets are committed only for what a
// flushed batch covered.

export interface Source {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface OffsetRange {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

export class Batch {
  /** Rows as JSONCompactEachRow lines (see rows.ts toLine), and their event ids, same index. */
  readonly lines: string[] = [];
  readonly eventIds: string[] = [];
  /** Message of each row, same index: the bytes a row goes to the DLQ with if ClickHouse rejects it. */
  readonly sources: Source[] = [];
  readonly dead: DeadLetter[] = [];
  /** Message bytes held, to bound memory. */
  bytes = 0;
  /** When the first item arrived (ms), for the time-based flush. */
  openedAt: number | undefined;
  private readonly ranges = new Map<string, OffsetRange>();
  private lastRange: OffsetRange | undefined;

  get size(): number {
    return this.lines.length + this.dead.length;
  }

  addRow(row: EventRow, source: Source, now: number): void {
    this.addLine(toLine(row), row.event_id, source, now);
  }

  /** A row already serialised as its JSONCompactEachRow line (trusted.ts). */
  addLine(line: string, eventId: string, source: Source, now: number): void {
    this.lines.push(line);
    this.eventIds.push(eventId);
    this.sources.push(source);
    this.track(source, now);
  }

  addDead(letter: DeadLetter, source: Source, now: number): void {
    this.dead.push(letter);
    this.track(source, now);
  }

  /** Due when full by rows or bytes, or when its oldest item waited `intervalMs`. */
  isDue(now: number, limits: { maxRows: number; maxBytes: number; intervalMs: number }): boolean {
    if (this.size === 0) return false;
    return (
      this.lines.length >= limits.maxRows ||
      this.bytes >= limits.maxBytes ||
      now - (this.openedAt ?? now) >= limits.intervalMs
    );
  }

  offsetRanges(): OffsetRange[] {
    return [...this.ranges.values()];
  }

  /** Offsets to commit once this batch is durable: the next offset to read, per partition. */
  commits(): Array<{ topic: string; partition: number; offset: string }> {
    return this.offsetRanges().map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: (r.last + 1n).toString(),
    }));
  }

  /**
   * insert_deduplication_token: derived from the offset ranges and event ids, so the same
   * batch retried (e.g. after a timeout that ClickHouse actually completed) is dropped on
   * arrival, while different content can never share a token.
   */
  token(): string {
    const h = createHash('sha256');
    for (const r of [...this.ranges.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    )) {
      h.update(`${r.topic}/${r.partition}/${r.first}-${r.last};`);
    }
    for (const id of this.eventIds) h.update(`${id}\n`);
    return h.digest('hex');
  }

  private track(source: Source, now: number): void {
    this.openedAt ??= now;
    this.bytes += source.value?.length ?? 0;
    const offset = BigInt(source.offset);
    // Messages come partition by partition: the previous item's range is usually this one's.
    let r = this.lastRange;
    if (r === undefined || r.partition !== source.partition || r.topic !== source.topic) {
      const k = `${source.topic}\u0000${source.partition}`;
      r = this.ranges.get(k);
      if (r !== undefined) this.lastRange = r;
    }
    if (!r) {
      this.lastRange = { topic: source.topic, partition: source.partition, first: offset, last: offset };
      this.ranges.set(`${source.topic}\u0000${source.partition}`, this.lastRange);
    } else {
      if (offset < r.first) r.first = offset;
      if (offset > r.last) r.last = offset;
    }
  }
}
