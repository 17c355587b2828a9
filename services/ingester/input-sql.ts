import { EVENT_TYPES } from '../../schemas/events/index.js';
import { EVENT_COLUMNS } from '../platform/clickhouse/event-row.js';

// The `input` insert mode (INGESTER_INSERT_MODE=input): for messages the gateway marked, the
// ingester does not parse the event at all. It sends one line per message, the message's own
// bytes with two fields put in front,
//
//   {"n":<index in the insert>,"ts":<Kafka timestamp ms>, …the event's fields, spliced…}
//
// and ClickHouse derives the row: `INSERT INTO events (…) SELECT <row expressions> FROM
// input(INPUT_STRUCTURE)`. The JSONEachRow parser itself reads the envelope into typed columns
// (strictly: INPUT_SETTINGS), keeps `data` as its text, and the expressions below apply the
// rules of trusted.ts and rows.ts in SQL. Every row must come out byte-identical to the rows
// path's (test/ingest-modes.int.test.ts).
//
// A row the SQL cannot take exactly as the rows path would is refused (REFUSED below: a data
// error naming the line): the writer retries the rows around it and hands it back to the rows
// path (decode.ts), which stores it, or dead-letters it with the reason the rows path gives.
// Values of the wrong JSON type for their column (a number or array for a string, null where
// the rows path refuses null, a duplicate key), and bytes that are not one JSON object, fail the
// parse instead, and are found by bisecting. So the SQL only has to be at least as strict as the
// rows path, never as complete. It refuses:
//   - anything trusted.ts refuses (types and formats of what becomes a column); a string column
//     given an object (the parser would keep its text) is refused by its leading `{`;
//   - times other than the gateway's UTC `…Z` spelling within DateTime64's years (rows.ts
//     converts the others with Date);
//   - a `data` whose text as ClickHouse re-serialises it may differ from JSON.stringify's:
//     an integer of 16+ digits (JavaScript rounds beyond 2^53), an exponent (JavaScript writes
//     `1e+21`), a \u escape (ClickHouse escapes U+2028/U+2029, JavaScript does not), an
//     integer-like key (JavaScript puts those first), a repeated key. These patterns may also
//     match inside a string (a false alarm costs only the detour through the rows path);
//   - a line whose `n` is not its position (a message that was not one JSON object).
// Not caught here (the parser converts them): a quoted or boolean `seq`/`schema_version`, and a
// `data` given as a string holding an object's text. The loop sends the gateway's spelling of
// those (`"seq":"`, `"data":"`, …) the rows path (loop.ts spliceable); other spellings of them can
// only come from a producer forging the gateway's mark, and are stored as the number / object
// they spell.

const STRING_TUPLE = (fields: string[]) => `Tuple(${fields.map((f) => `${f} Nullable(String)`).join(', ')})`;
const SIGHTING = STRING_TUPLE(['kind', 'path', 'fp']);

/** The event's top-level fields as the parser reads them (plus `n` and `ts`). */
const FIELDS = [
  'event_id Nullable(String)',
  'schema_version Nullable(Float64)',
  'type Nullable(String)',
  'occurred_at Nullable(String)',
  // Not Nullable: with input_format_null_as_default=0 a JSON null is a parse error (the rows
  // path refuses it), while absent reads as ''.
  'received_at String',
  'tenant Nullable(String)',
  `agent ${STRING_TUPLE(['id', 'instance', 'workload_identity', 'model', 'framework'])}`,
  'task_id Nullable(String)',
  'parent_task_id String',
  'seq Nullable(Float64)',
  'prev_hash Nullable(String)',
  'hash Nullable(String)',
  'trace_id Nullable(String)',
  'span_id Nullable(String)',
  `secrets Array(${SIGHTING})`,
  `entities Array(${SIGHTING})`,
  'data String',
];
const EVENT_FIELDS = FIELDS.join(', ');

export const INPUT_STRUCTURE = `n UInt32, ts Int64, ${EVENT_FIELDS}`;
/** The event's fields alone, and their names (the bench's Kafka-engine tables). */
export const EVENT_STRUCTURE = EVENT_FIELDS;
export const EVENT_FIELD_NAMES = FIELDS.map((f) => f.slice(0, f.indexOf(' ')));

/** Format settings of the parse: strict types, `data` kept as its text. */
export const INPUT_SETTINGS = {
  input_format_json_read_objects_as_strings: 1,
  input_format_json_read_numbers_as_strings: 0,
  input_format_json_read_bools_as_strings: 0,
  input_format_json_read_arrays_as_strings: 0,
  input_format_null_as_default: 0,
  input_format_skip_unknown_fields: 1,
  input_format_json_defaults_for_missing_elements_in_named_tuple: 1,
} as const;

/**
 * How the SQL refuses a row: converting this text plus the line's `n` to a number fails
 * (CANNOT_PARSE_TEXT, a data error) with the text in the message, so the writer learns which
 * row it was (refusedLine) and retries the rows around it, instead of bisecting. Short-circuit
 * evaluation of `if` runs the conversion only for refused rows; the first one stops the insert.
 */
const REFUSED = 'input mode refused line ';
const REFUSED_AT = new RegExp(`'${REFUSED}(\\d+)'`);

/** The line (`n`) an input-mode insert error names, if it is the SQL's own refusal. */
export function refusedLine(message: string): number | undefined {
  const m = REFUSED_AT.exec(message);
  return m ? Number(m[1]) : undefined;
}

const ID = `'^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$'`;
const TENANT = `'^[a-z0-9][a-z0-9_-]*$'`;
const UTC_MS = `'^\\\\d{4}-\\\\d\\\\d-\\\\d\\\\dT\\\\d\\\\d:\\\\d\\\\d:\\\\d\\\\d(\\\\.\\\\d{1,3})?Z$'`;
// In the re-serialised `data` (no whitespace outside strings): a number token after `:`, `,`
// or `[` of 16+ digits or with an exponent; any \u escape; an integer-like key.
const NOT_AS_JS = `'[:,\\\\[]-?(\\\\d{16,}|\\\\d+(\\\\.\\\\d+)?[eE])|\\\\\\\\u|[{,]"(0|[1-9]\\\\d*)":'`;

/** A string column's value: not the text of an object the parser kept. */
const plain = (v: string) => `NOT startsWith(${v}, '{')`;
const optPlain = (v: string) => `(${v} IS NULL OR ${plain(v)})`;
const isId = (v: string) => `(length(${v}) BETWEEN 1 AND 128 AND match(${v}, ${ID}))`;
const isRaw = (raw: string) => `startsWith(${raw}, '"')`;
const str = (raw: string) => `JSONExtractString(${raw})`;
/** Absent → ''; a string as-is; else not a row. */
const okOptEmpty = (raw: string) => `(${raw} = '' OR ${isRaw(raw)})`;
const chTime = (s: string) =>
  `concat(substring(${s}, 1, 10), ' ', substring(${s}, 12, 8), '.', rightPad(if(length(${s}) > 20, substring(${s}, 21, length(${s}) - 21), ''), 3, '0'))`;
/** DateTime64(3)'s years, where this plain parse and the rows path's best-effort one agree. */
const inRange = (s: string) => `substring(${s}, 1, 4) BETWEEN '1900' AND '2299'`;
const okTime = (s: string) => `(match(${s}, ${UTC_MS}) AND ${inRange(s)})`;

const TYPES = EVENT_TYPES.map((t) => `'${t}'`).join(', ');

/** The statement of an input-mode insert into `table` (a constant of the writer, never input). */
export function inputInsertQuery(table: string): string {
  const select = eventRowsSelect(`input('${INPUT_STRUCTURE}')`, 'refuse');
  return `INSERT INTO ${table} (${EVENT_COLUMNS.join(', ')})${select}\nFORMAT JSONEachRow`;
}

/**
 * The SELECT of `events` rows (EVENT_COLUMNS order) from `source`, which has the columns of
 * INPUT_STRUCTURE. `refuse`: a row the rules refuse fails the statement, naming its line (the
 * ingester). `skip`: it is left out, and `n` is not checked (bench/ingest-peers.ts's Kafka-engine
 * view, which has nowhere to send it).
 */
export function eventRowsSelect(source: string, onRefused: 'refuse' | 'skip'): string {
  const action = `type = 'action'`;
  const cred = `type IN ('credential.issued', 'credential.revoked')`;
  const appr = `type IN ('approval.requested', 'approval.granted', 'approval.denied')`;
  const scope = `type = 'task.scope_changed'`;
  const ended = `type = 'task.ended'`;
  const d = (k: string) => `dm['${k}']`;
  const sightingsOk = (list: string) =>
    `arrayAll(x -> x.1 IS NOT NULL AND x.2 IS NOT NULL AND x.3 IS NOT NULL AND ${plain('x.1')} AND ${plain('x.2')} AND ${plain('x.3')}, ${list})`;
  return `
SELECT
  assumeNotNull(event_id) AS event_id, toUInt8(1) AS schema_version, assumeNotNull(type) AS type,
  assumeNotNull(occurred_t) AS occurred_at, assumeNotNull(received_t) AS received_at,
  assumeNotNull(tenant) AS tenant, assumeNotNull(agent.id) AS agent_id,
  agent.instance AS agent_instance, agent.workload_identity AS workload_identity,
  agent.model AS agent_model, agent.framework AS agent_framework,
  assumeNotNull(task_id) AS task_id, if(parent_task_id = '', NULL, parent_task_id) AS parent_task_id,
  toUInt64(seq) AS seq, prev_hash, hash, trace_id, span_id,
  ${str('tool_raw')} AS tool, ${str('operation_raw')} AS operation, ${str('resource_raw')} AS resource,
  ${str('destination_raw')} AS destination, ${str('credential_raw')} AS credential_id,
  ${str('approval_raw')} AS approval_id, ${str('outcome_raw')} AS outcome,
  arrayMap(x -> JSONExtractString(x), classes_list) AS data_classes,
  arrayMap(x -> assumeNotNull(x.1), secrets) AS secret_kinds,
  arrayMap(x -> assumeNotNull(x.2), secrets) AS secret_paths,
  arrayMap(x -> assumeNotNull(x.3), secrets) AS secret_fps,
  arrayMap(x -> assumeNotNull(x.1), entities) AS entity_kinds,
  arrayMap(x -> assumeNotNull(x.2), entities) AS entity_paths,
  arrayMap(x -> assumeNotNull(x.3), entities) AS entity_fps,
  data_js AS data
FROM (
  SELECT
    *,
    ${chTime('occurred_at')} AS occurred_text,
    ${chTime('received_at')} AS received_text,
    toDateTime64OrNull(occurred_text, 3, 'UTC') AS occurred_t,
    if(received_at = '', fromUnixTimestamp64Milli(ts, 'UTC'), toDateTime64OrNull(received_text, 3, 'UTC')) AS received_t,
    -- data: its keys and values as ClickHouse re-serialises them, and from those its text
    -- (keys re-escaped; ClickHouse's '\\/' written as JavaScript does, '/').
    JSONExtractKeysAndValuesRaw(data) AS kvs,
    CAST(kvs, 'Map(String, String)') AS dm,
    concat('{', arrayStringConcat(arrayMap(x -> concat(replaceAll(toJSONString(x.1), '\\\\/', '/'), ':', x.2), kvs), ','), '}') AS data_js,
    multiIf(${action}, ${d('tool')}, '') AS tool_raw,
    multiIf(${action}, ${d('operation')}, '') AS operation_raw,
    multiIf(${action}, ${d('resource')}, '') AS resource_raw,
    multiIf(${action}, ${d('destination')}, '') AS destination_raw,
    multiIf(${action} OR ${cred}, ${d('credential_id')}, '') AS credential_raw,
    multiIf(${action} OR ${appr} OR ${scope}, ${d('approval_id')}, '') AS approval_raw,
    multiIf(${action} OR ${ended}, ${d('outcome')}, '') AS outcome_raw,
    multiIf(${action}, ${d('data_classes')}, '') AS classes_raw,
    if(classes_raw = '', [], JSONExtractArrayRaw(classes_raw)) AS classes_list,
    (
      ${onRefused === 'refuse' ? 'n = rowNumberInAllBlocks() AND' : ''}
      event_id IS NOT NULL AND ${isId('event_id')}
      AND schema_version = 1
      AND type IN (${TYPES})
      AND tenant IS NOT NULL AND length(tenant) <= 64 AND match(tenant, ${TENANT})
      AND task_id IS NOT NULL AND ${isId('task_id')}
      AND seq >= 1 AND seq <= 9007199254740991 AND seq = floor(seq)
      AND agent.id IS NOT NULL AND ${isId('agent.id')}
      AND ${optPlain('agent.instance')} AND ${optPlain('agent.workload_identity')}
      AND ${optPlain('agent.model')} AND ${optPlain('agent.framework')}
      AND occurred_at IS NOT NULL AND ${okTime('occurred_at')} AND isNotNull(occurred_t)
      AND (received_at = '' OR ${okTime('received_at')}) AND isNotNull(received_t)
      AND (parent_task_id = '' OR ${isId('parent_task_id')})
      AND ${optPlain('prev_hash')} AND ${optPlain('hash')} AND ${optPlain('trace_id')} AND ${optPlain('span_id')}
      AND ${sightingsOk('secrets')} AND ${sightingsOk('entities')}
      AND startsWith(data, '{') AND (length(kvs) > 0 OR match(data, '^\\\\{\\\\s*\\\\}$'))
      AND length(arrayDistinct(arrayMap(x -> x.1, kvs))) = length(kvs)
      AND if(${action}, ${isRaw('tool_raw')} AND ${isRaw('operation_raw')} AND ${isRaw('outcome_raw')}, 1)
      AND ${okOptEmpty('resource_raw')} AND ${okOptEmpty('destination_raw')}
      AND if(${cred}, ${isRaw('credential_raw')}, ${okOptEmpty('credential_raw')})
      AND if(${appr}, ${isRaw('approval_raw')}, ${okOptEmpty('approval_raw')})
      AND if(${ended}, ${isRaw('outcome_raw')}, ${okOptEmpty('outcome_raw')})
      AND (classes_raw = '' OR startsWith(classes_raw, '[')) AND arrayAll(x -> startsWith(x, '"'), classes_list)
      AND NOT match(data_js, ${NOT_AS_JS})
    ) AS row_ok
  FROM ${source}
)
WHERE ${onRefused === 'refuse' ? `if(ifNull(row_ok, 0), 0, toUInt8(concat('${REFUSED}', toString(n)))) = 0` : 'ifNull(row_ok, 0)'}`;
}
