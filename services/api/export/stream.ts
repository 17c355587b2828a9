import { Readable } from 'node:stream';
import type { StoredEventRow } from '../../platform/clickhouse/event-row.js';
import { type EventView, toEventView } from '../query/event-view.js';
import { csvHeader, csvLine, type ExportFormat, ndjsonLine } from './format.js';

// An export body: rows from the read layer's stream, encoded as they arrive and handed to the
// socket through a Readable, so backpressure reaches ClickHouse and no more than one chunk is
// in memory. Lines are joined into ~64 KiB chunks (one write per line would cost more than the
// encoding). `trailer` adds a last line once every row is written (the chain verdict).

const CHUNK = 64 * 1024;

export interface ExportOptions {
  format: ExportFormat;
  onEvent?: (e: EventView) => void;
  /** The last line (already encoded), computed after the last row. */
  trailer?: () => string | undefined;
}

/**
 * Resolves once ClickHouse has answered the query (its first rows or its end), so a failing
 * query is still an error answer (503) rather than a 200 with an empty body that reads as
 * "nothing matched". After that, a failure cuts the body short without its last line.
 */
export async function exportStream(
  rows: AsyncIterable<StoredEventRow>,
  opts: ExportOptions,
): Promise<Readable> {
  const line = opts.format === 'csv' ? csvLine : ndjsonLine;
  const it = rows[Symbol.asyncIterator]();
  const first = await it.next();
  async function* all(): AsyncGenerator<StoredEventRow> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  async function* encode(): AsyncGenerator<string> {
    let buf = opts.format === 'csv' ? csvHeader() : '';
    for await (const row of all()) {
      const e = toEventView(row);
      opts.onEvent?.(e);
      buf += line(e);
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    buf += opts.trailer?.() ?? '';
    if (buf !== '') yield buf;
  }
  const body = Readable.from(encode(), { objectMode: false });
  // A client that goes away ends the ClickHouse read too.
  body.on('close', () => void it.return?.());
  return body;
}
