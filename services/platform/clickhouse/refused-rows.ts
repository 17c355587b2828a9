import { ClickHouseError } from '@clickhouse/client';

// One row ClickHouse refuses as data must not stop every row behind it. An insert that fails
// because of its data is split in halves until the refused rows are isolated; each is handed
// back with ClickHouse's code, for the dead-letter topic, and the rest is stored. Any other
// failure (ClickHouse away, overloaded, a timeout) is the caller's to retry: the rows are fine.

/** ClickHouse error codes that mean "this data is bad", not "try later". */
const DATA_ERROR_CODES = new Set([
  '6', // CANNOT_PARSE_TEXT
  '25', // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone UTF-16 surrogate in a JSON string)
  '26', // CANNOT_PARSE_QUOTED_STRING
  '27', // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '32', // ATTEMPT_TO_READ_AFTER_EOF
  '33', // CANNOT_READ_ALL_DATA
  '38', // CANNOT_PARSE_DATE
  '41', // CANNOT_PARSE_DATETIME
  '53', // TYPE_MISMATCH
  '69', // ARGUMENT_OUT_OF_BOUND
  '70', // CANNOT_CONVERT_TYPE
  '72', // CANNOT_PARSE_NUMBER
  '117', // INCORRECT_DATA
  '131', // TOO_LARGE_STRING_SIZE
  '306', // TOO_DEEP_RECURSION
  '349', // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  '377', // CANNOT_PARSE_UUID
  '395', // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (the ingester's input-mode row checks, input-sql.ts)
]);

/**
 * Parse errors of row formats name the row or the key they stopped at: a code missing from the
 * list above is still recognised as data by its message, so a ClickHouse upgrade that adds a
 * parse error code cannot bring back the retry-for-ever wedge.
 */
const ROW_CONTEXT = /\(at row \d+\)|while reading the value of key|Row \d+:|Cannot parse/i;

export function isDataError(err: unknown): err is ClickHouseError {
  return err instanceof ClickHouseError && (DATA_ERROR_CODES.has(err.code) || ROW_CONTEXT.test(err.message));
}

export interface RefusedRow {
  /** Index in the rows handed to `insertIsolatingRefused`. */
  index: number;
  /** ClickHouse's error code, e.g. '25'. */
  clickhouseCode: string;
  reason: string;
}

/**
 * Insert `rows` with `attempt` (which retries outages itself and throws only data errors or a
 * give-up). Resolves with the rows ClickHouse refused; every other row is stored. Each part gets
 * its own deduplication token derived from `token`, so a retried part is still idempotent.
 */
export async function insertIsolatingRefused<T>(
  rows: readonly T[],
  token: string,
  attempt: (rows: readonly T[], token: string) => Promise<void>,
  /**
   * The row (index in the part) a data error names, when the statement makes ClickHouse name it
   * (the ingester's input mode): that row is refused and the rows around it retried, instead of
   * halving the part ~log2(n) times to find it.
   */
  locate?: (err: ClickHouseError) => number | undefined,
): Promise<RefusedRow[]> {
  const refused: RefusedRow[] = [];
  const sub = (offset: number, length: number) => `${token}:${offset}+${length}`;
  async function range(part: readonly T[], offset: number, partToken: string): Promise<void> {
    if (part.length === 0) return;
    try {
      await attempt(part, partToken);
    } catch (err) {
      if (!isDataError(err)) throw err;
      const at = part.length === 1 ? 0 : locate?.(err);
      if (at !== undefined && Number.isInteger(at) && at >= 0 && at < part.length) {
        refused.push({
          index: offset + at,
          clickhouseCode: err.code,
          reason: `ClickHouse refused the row: code ${err.code}${err.type ? ` ${err.type}` : ''}: ${err.message.slice(0, 400)}`,
        });
        await range(part.slice(0, at), offset, sub(offset, at));
        await range(part.slice(at + 1), offset + at + 1, sub(offset + at + 1, part.length - at - 1));
        return;
      }
      const mid = Math.ceil(part.length / 2);
      await range(part.slice(0, mid), offset, sub(offset, mid));
      await range(part.slice(mid), offset + mid, sub(offset + mid, part.length - mid));
    }
  }
  if (rows.length > 0) await range(rows, 0, token);
  return refused;
}
