import { createHash } from 'node:crypto';
import type { EventRow } from '../platform/clickhouse/event-row.js';
import type { DeadLetter, MessageSource } from '../platform/kafka/dead-letter.js';
import type { Durable } from '../platform/kafka/offsets.js';
import type { StageMessage } from '../platform/kafka/runner.js';
import { toLine } from './rows.js';

// What the ingester holds between commits: rows to insert and dead letters to send. Its
// messages are taken into `unit` (platform/kafka/offsets.ts), which the loop completes once the
// insert and the dead-letter produce are acknowledged: that is when their offsets may be
// committed.

export type Source = MessageSource;

export class Batch {
  /** Rows as JSONCompactEachRow lines (see rows.ts toLine), and their event ids, same index. */
  readonly lines: string[] = [];
  readonly eventIds: string[] = [];
  /** Message of each row, same index: the bytes a row goes to the DLQ with if ClickHouse rejects it. */
  readonly sources: Source[] = [];
  readonly dead: DeadLetter[] = [];
  /**
   * Marked messages for the `input` insert mode (input-sql.ts): the message as consumed, for
   * ClickHouse to derive the row from its bytes.
   */
  readonly raws: StageMessage[] = [];
  /** Where each raw came from, same index (rawSource): arrays, not an object per message. */
  private readonly rawTopics: string[] = [];
  private readonly rawPartitions: number[] = [];
  /** Message bytes held, to bound memory. */
  bytes = 0;
  /** When the first item arrived (ms), for the time-based flush. */
  openedAt: number | undefined;

  /** `unit`: what the runner's tracker takes this batch's offsets into. */
  constructor(readonly unit: Durable) {}

  get size(): number {
    return this.lines.length + this.raws.length + this.dead.length;
  }

  /** Rows to insert, of both kinds. */
  get rows(): number {
    return this.lines.length + this.raws.length;
  }

  addRow(row: EventRow, source: Source, now: number): void {
    this.addLine(toLine(row), row.event_id, source, now);
  }

  /** A row already serialised as its JSONCompactEachRow line (trusted.ts). */
  addLine(line: string, eventId: string, source: Source, now: number): void {
    this.lines.push(line);
    this.eventIds.push(eventId);
    this.sources.push(source);
    this.track(source.value, now);
  }

  /** A marked message whose row ClickHouse derives (input mode); its value is a non-empty object text. */
  addRaw(m: StageMessage, topic: string, partition: number, now: number): void {
    this.raws.push(m);
    this.rawTopics.push(topic);
    this.rawPartitions.push(partition);
    this.track(m.value, now);
  }

  /** The source of raw `i`, for its dead letter (made on demand: most raws never need one). */
  rawSource(i: number): Source {
    const m = this.raws[i]!;
    return {
      topic: this.rawTopics[i]!,
      partition: this.rawPartitions[i]!,
      offset: m.offset,
      key: m.key,
      value: m.value,
    };
  }

  addDead(letter: DeadLetter, source: Source, now: number): void {
    this.dead.push(letter);
    this.track(source.value, now);
  }

  /** Due when full by rows or bytes, or when its oldest item waited `intervalMs`. */
  isDue(now: number, limits: { maxRows: number; maxBytes: number; intervalMs: number }): boolean {
    if (this.size === 0) return false;
    return (
      this.rows >= limits.maxRows ||
      this.bytes >= limits.maxBytes ||
      now - (this.openedAt ?? now) >= limits.intervalMs
    );
  }

  /**
   * insert_deduplication_token: derived from the offset ranges and event ids, so the same
   * batch retried (e.g. after a timeout that ClickHouse actually completed) is dropped on
   * arrival, while different content can never share a token. Messages not parsed here (input
   * mode) count by their bytes, which determine their event id.
   */
  token(): string {
    const h = createHash('sha256');
    for (const r of [...this.unit.ranges.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    )) {
      h.update(`${r.topic}/${r.partition}/${r.first}-${r.last};`);
    }
    for (const id of this.eventIds) h.update(`${id}\n`);
    for (const m of this.raws) h.update(m.value!).update('\n');
    return h.digest('hex');
  }

  private track(value: Buffer | null, now: number): void {
    this.openedAt ??= now;
    this.bytes += value?.length ?? 0;
  }
}
