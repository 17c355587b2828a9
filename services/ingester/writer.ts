import { Readable } from 'node:stream';
import { type ClickHouseClient, ClickHouseError } from '@clickhouse/client';
import { type RetryPolicy, steadyBackoffMs } from '../platform/backoff.js';
import { EVENT_COLUMNS } from '../platform/clickhouse/event-row.js';
import type { Logger } from '../platform/logger.js';

// Batched insert into `events`: one INSERT per batch with an insert_deduplication_token.
// ClickHouse away or overloaded → wait and retry with capped exponential backoff, for as long
// as it takes (the caller heartbeats through `onWait` and can abort). ClickHouse refusing the
// data itself → split the batch in halves until the rows it refuses are isolated, and hand
// those back so they go to the dead-letter topic instead of blocking the partition forever.

/** ClickHouse error codes that mean "this data is bad", not "try later". */
const DATA_ERROR_CODES = new Set([
  '6', // CANNOT_PARSE_TEXT
  '26', // CANNOT_PARSE_QUOTED_STRING
  '27', // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '38', // CANNOT_PARSE_DATE
  '41', // CANNOT_PARSE_DATETIME
  '53', // TYPE_MISMATCH
  '69', // ARGUMENT_OUT_OF_BOUND
  '70', // CANNOT_CONVERT_TYPE
  '72', // CANNOT_PARSE_NUMBER
  '117', // INCORRECT_DATA
  '131', // TOO_LARGE_STRING_SIZE
  '349', // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
]);

export function isDataError(err: unknown): err is ClickHouseError {
  return err instanceof ClickHouseError && DATA_ERROR_CODES.has(err.code);
}

export interface InsertControl {
  signal: AbortSignal;
  /** Called at least every `waitSliceMs` while waiting to retry (Kafka heartbeats). May throw to give up. */
  onWait: () => Promise<void>;
  /** Called once per failed attempt, for metrics. */
  onRetry?: (err: unknown, attempt: number) => void;
}

export interface Rejected {
  index: number;
  reason: string;
}

export interface EventWriter {
  /**
   * Insert JSONCompactEachRow lines (rows.ts toLine). Resolves when ClickHouse acknowledged
   * every row except those returned as rejected (by index).
   */
  insert(lines: string[], token: string, control: InsertControl): Promise<Rejected[]>;
}

export function createEventWriter(
  client: ClickHouseClient,
  opts: { table?: string; retry: RetryPolicy; log: Logger; waitSliceMs?: number },
): EventWriter {
  const table = opts.table ?? 'events';
  const slice = opts.waitSliceMs ?? 2_000;

  // Fixed statement: the table and columns are constants of this module, never input.
  const query = `INSERT INTO ${table} (${EVENT_COLUMNS.join(', ')}) FORMAT JSONCompactEachRow`;

  async function once(lines: string[], token: string): Promise<void> {
    // Pre-serialised lines (measured: JSONCompactEachRow costs ~30 % less CPU in Node and
    // ~12 % less in ClickHouse than JSONEachRow for these rows), streamed in chunks.
    const result = await client.exec({
      query,
      values: Readable.from(chunks(lines), { objectMode: false }),
      clickhouse_settings: {
        insert_deduplication_token: token,
        insert_deduplicate: 1,
        // `data` arrives as a JSON object; store its text as-is in the String column.
        input_format_json_read_objects_as_strings: 1,
        // A synchronous insert, answered only once it is written.
        async_insert: 0,
        // One parsing thread: on the 2-core box the parallel parser's extra threads cost
        // ~8 % more ClickHouse CPU per row (measured 18.6/14.7 vs 17.1/13.4 µs in paired runs),
        // and the ingester overlaps decoding with the insert anyway.
        input_format_parallel_parsing: 0,
        wait_end_of_query: 1,
      },
    });
    result.stream.resume();
    await new Promise<void>((resolve, reject) => {
      result.stream.once('end', resolve).once('close', resolve).once('error', reject);
    });
  }

  async function sleep(ms: number, control: InsertControl): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      control.signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, Math.min(slice, until - Date.now())));
      await control.onWait();
    }
  }

  async function withRetry(rows: string[], token: string, control: InsertControl): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      control.signal.throwIfAborted();
      try {
        await once(rows, token);
        if (attempt > 1)
          opts.log.info(
            { attempts: attempt, rows: rows.length },
            'ClickHouse insert succeeded after retries',
          );
        return;
      } catch (err) {
        if (isDataError(err)) throw err;
        control.onRetry?.(err, attempt);
        const delay = steadyBackoffMs(attempt, opts.retry);
        // First failures are expected blips; a long outage is an operator's problem.
        const level = attempt >= 5 ? 'error' : 'warn';
        opts.log[level](
          { err: errorSummary(err), attempt, retryInMs: delay, rows: rows.length },
          'ClickHouse insert failed; retrying',
        );
        await sleep(delay, control);
      }
    }
  }

  async function insertRange(
    rows: string[],
    offset: number,
    token: string,
    control: InsertControl,
    rejected: Rejected[],
  ): Promise<void> {
    try {
      await withRetry(rows, token, control);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (rows.length === 1) {
        rejected.push({ index: offset, reason: `clickhouse rejected the row: ${err.message.slice(0, 512)}` });
        return;
      }
      const mid = Math.ceil(rows.length / 2);
      await insertRange(rows.slice(0, mid), offset, `${token}:${offset}+${mid}`, control, rejected);
      await insertRange(
        rows.slice(mid),
        offset + mid,
        `${token}:${offset + mid}+${rows.length - mid}`,
        control,
        rejected,
      );
    }
  }

  return {
    async insert(rows, token, control) {
      const rejected: Rejected[] = [];
      if (rows.length > 0) await insertRange(rows, 0, token, control, rejected);
      return rejected;
    },
  };
}

/** ~1 MiB string chunks of newline-terminated lines. */
function* chunks(lines: string[]): Generator<string> {
  let buf: string[] = [];
  let size = 0;
  for (const line of lines) {
    buf.push(line);
    size += line.length + 1;
    if (size >= 1 << 20) {
      yield `${buf.join('\n')}\n`;
      buf = [];
      size = 0;
    }
  }
  if (buf.length > 0) yield `${buf.join('\n')}\n`;
}

function errorSummary(err: unknown): { message: string; code?: string } {
  if (err instanceof ClickHouseError) return { message: err.message.slice(0, 300), code: err.code };
  const e = err as NodeJS.ErrnoException;
  return { message: String(e?.message ?? err).slice(0, 300), code: e?.code };
}
