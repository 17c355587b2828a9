import { EVENT_TYPES } from '../../schemas/events/index.js';
import { EVENT_COLUMNS } from '../platform/clickhouse/event-row.js';

// The `input` insert mode (INGESTER_INSERT_MODE=input): for messages the gateway marked, the
// ingester does not parse the event at all. It sends one line per message,
//
//   {"n":<index in the insert>,"ts":<Kafka timestamp ms>,"e":<the message bytes, spliced>}
//
// and ClickHouse derives the row: `INSERT INTO events (…) SELECT <row expressions> FROM
// input('n UInt32, ts Int64, e String')`, with input_format_json_read_objects_as_strings so `e`
// is the event's own text, not re-escaped. The expressions below are the rules of trusted.ts
// and rows.ts written in SQL; every row must come out byte-identical to the rows path's
// (test/ingest-modes.int.test.ts).
//
// A row the SQL cannot take exactly as the rows path would is refused (REFUSED below: a data
// error naming the line): the writer retries the rows around it and hands it back to the rows
// path (decode.ts), which stores it, or dead-letters it with the reason the rows path gives. Bad
// bytes (not one JSON object) fail the parse instead, and are found by bisecting. So the SQL only has to be at least as strict as the rows
// path, never as complete. It refuses:
//   - anything trusted.ts refuses (types and formats of what becomes a column);
//   - times other than the gateway's UTC `…Z` spelling (rows.ts converts the others with Date);
//   - a `data` whose text as ClickHouse re-serialises it may differ from JSON.stringify's:
//     an integer of 16+ digits (JavaScript rounds beyond 2^53), an exponent (JavaScript writes
//     `1e+21`), a \u escape (ClickHouse escapes U+2028/U+2029, JavaScript does not), an
//     integer-like key (JavaScript puts those first). These patterns may also match inside a
//     string (a false alarm costs only the detour through the rows path);
//   - a line whose `n` is not its position (a message that was not one JSON object split or
//     swallowed lines).

export const INPUT_STRUCTURE = 'n UInt32, ts Int64, e String';

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
// In ClickHouse's re-serialised `data` (no whitespace outside strings): a number token after
// `:`, `,` or `[` of 16+ digits or with an exponent; any \u escape; an integer-like key.
const NOT_AS_JS = `'[:,\\\\[]-?(\\\\d{16,}|\\\\d+(\\\\.\\\\d+)?[eE])|\\\\\\\\u|[{,]"(0|[1-9]\\\\d*)":'`;

const isStr = (raw: string) => `startsWith(${raw}, '"')`;
const str = (raw: string) => `JSONExtractString(${raw})`;
const isId = (v: string) => `(length(${v}) BETWEEN 1 AND 128 AND match(${v}, ${ID}))`;
/** Absent or null → NULL; a string as-is; else not a row (ok_ flag). */
const optNull = (raw: string) => `if(${raw} IN ('', 'null'), NULL, ${str(raw)})`;
const okOptNull = (raw: string) => `(${raw} IN ('', 'null') OR ${isStr(raw)})`;
/** Absent → ''; a string as-is; else not a row. */
const okOptEmpty = (raw: string) => `(${raw} = '' OR ${isStr(raw)})`;
const arrOf = (raw: string) => `if(${raw} = '', [], JSONExtractArrayRaw(${raw}))`;
const okArr = (raw: string) => `(${raw} = '' OR startsWith(${raw}, '['))`;
/** A JSON object's top-level keys → raw values. */
const kvMap = (raw: string) => `CAST(JSONExtractKeysAndValuesRaw(${raw}), 'Map(String, String)')`;

/** The ClickHouse DateTime64(3) text of rows.ts toClickHouseTime's fast path, from a `…Z` string. */
const chTime = (s: string) =>
  `concat(substring(${s}, 1, 10), ' ', substring(${s}, 12, 8), '.', rightPad(if(length(${s}) > 20, substring(${s}, 21, length(${s}) - 21), ''), 3, '0'))`;

/**
 * The year within DateTime64(3)'s range (1900-2299), where the plain parse here and the rows
 * path's best-effort parse of the same text agree; other years take the rows path.
 */
const inRange = (s: string) => `substring(${s}, 1, 4) BETWEEN '1900' AND '2299'`;

const TYPES = EVENT_TYPES.map((t) => `'${t}'`).join(', ');

/** The statement of an input-mode insert into `table` (a constant of the writer, never input). */
export function inputInsertQuery(table: string): string {
  const select = eventRowsSelect(`input('${INPUT_STRUCTURE}')`, 'refuse');
  return `INSERT INTO ${table} (${EVENT_COLUMNS.join(', ')})${select}\nFORMAT JSONEachRow`;
}

/**
 * The SELECT of `events` rows (EVENT_COLUMNS order) from `source`, which has the columns `n`
 * (line number, checked), `ts` (Kafka timestamp ms) and `e` (the event's JSON text). `refuse`:
 * a row the rules refuse fails the statement, naming its line (the ingester). `skip`: it is left
 * out (bench/ingest-throughput.bench.ts's Kafka-engine view, which has nowhere to send it).
 */
export function eventRowsSelect(source: string, onRefused: 'refuse' | 'skip'): string {
  const sighting = (f: string) => `arrayMap(x -> JSONExtractString(x, '${f}'), s_list)`;
  const entity = (f: string) => `arrayMap(x -> JSONExtractString(x, '${f}'), en_list)`;
  const okSightings = (list: string) =>
    `arrayAll(x -> JSONType(x) = 'Object' AND JSONType(x, 'kind') = 'String' AND JSONType(x, 'path') = 'String' AND JSONType(x, 'fp') = 'String', ${list})`;
  // Per type, which `data` fields become columns (rows.ts extract).
  const action = `r_type = 'action'`;
  const cred = `r_type IN ('credential.issued', 'credential.revoked')`;
  const appr = `r_type IN ('approval.requested', 'approval.granted', 'approval.denied')`;
  const scope = `r_type = 'task.scope_changed'`;
  const ended = `r_type = 'task.ended'`;
  const d = (k: string) => `dm['${k}']`;
  const select = `
SELECT
  event_id, toUInt8(1) AS schema_version, r_type AS type,
  assumeNotNull(occurred_t) AS occurred_at, assumeNotNull(received_t) AS received_at,
  tenant, agent_id, agent_instance, workload_identity, agent_model, agent_framework,
  task_id, parent_task_id, toUInt64(seq_raw) AS seq, prev_hash, hash, trace_id, span_id,
  tool, operation, resource, destination, credential_id, approval_id, outcome, data_classes,
  ${sighting('kind')} AS secret_kinds, ${sighting('path')} AS secret_paths, ${sighting('fp')} AS secret_fps,
  ${entity('kind')} AS entity_kinds, ${entity('path')} AS entity_paths, ${entity('fp')} AS entity_fps,
  data_raw AS data
FROM (
  SELECT
    n, ts,
    ${kvMap('e')} AS m,
    m['event_id'] AS id_raw, ${str('id_raw')} AS event_id,
    m['type'] AS type_raw, ${str('type_raw')} AS r_type,
    m['tenant'] AS tenant_raw, ${str('tenant_raw')} AS tenant,
    m['task_id'] AS task_raw, ${str('task_raw')} AS task_id,
    m['seq'] AS seq_raw,
    m['occurred_at'] AS occurred_raw, ${str('occurred_raw')} AS occurred_s, ${chTime('occurred_s')} AS occurred_text,
    m['received_at'] AS received_raw, ${str('received_raw')} AS received_s, ${chTime('received_s')} AS received_text,
    toDateTime64OrNull(occurred_text, 3, 'UTC') AS occurred_t,
    if(received_raw = '', fromUnixTimestamp64Milli(ts, 'UTC'), toDateTime64OrNull(received_text, 3, 'UTC')) AS received_t,
    m['agent'] AS agent_raw, ${kvMap('agent_raw')} AS am,
    am['id'] AS agent_id_raw, ${str('agent_id_raw')} AS agent_id,
    ${optNull(`am['instance']`)} AS agent_instance,
    ${optNull(`am['workload_identity']`)} AS workload_identity,
    ${optNull(`am['model']`)} AS agent_model,
    ${optNull(`am['framework']`)} AS agent_framework,
    m['parent_task_id'] AS parent_raw, if(parent_raw = '', NULL, ${str('parent_raw')}) AS parent_task_id,
    ${optNull(`m['prev_hash']`)} AS prev_hash,
    ${optNull(`m['hash']`)} AS hash,
    ${optNull(`m['trace_id']`)} AS trace_id,
    ${optNull(`m['span_id']`)} AS span_id,
    m['secrets'] AS secrets_raw, ${arrOf('secrets_raw')} AS s_list,
    m['entities'] AS entities_raw, ${arrOf('entities_raw')} AS en_list,
    m['data'] AS data_raw, ${kvMap('data_raw')} AS dm,
    multiIf(${action}, ${d('tool')}, '') AS tool_raw,
    multiIf(${action}, ${d('operation')}, '') AS operation_raw,
    multiIf(${action}, ${d('resource')}, '') AS resource_raw,
    multiIf(${action}, ${d('destination')}, '') AS destination_raw,
    multiIf(${action} OR ${cred}, ${d('credential_id')}, '') AS credential_raw,
    multiIf(${action} OR ${appr} OR ${scope}, ${d('approval_id')}, '') AS approval_raw,
    multiIf(${action} OR ${ended}, ${d('outcome')}, '') AS outcome_raw,
    multiIf(${action}, ${d('data_classes')}, '') AS classes_raw,
    ${str('tool_raw')} AS tool, ${str('operation_raw')} AS operation, ${str('resource_raw')} AS resource,
    ${str('destination_raw')} AS destination, ${str('credential_raw')} AS credential_id,
    ${str('approval_raw')} AS approval_id, ${str('outcome_raw')} AS outcome,
    ${arrOf('classes_raw')} AS classes_list, arrayMap(x -> JSONExtractString(x), classes_list) AS data_classes,
    (
      ${onRefused === 'refuse' ? 'n = rowNumberInAllBlocks() AND' : ''}
      ${isStr('id_raw')} AND ${isId('event_id')}
      AND m['schema_version'] = '1'
      AND ${isStr('type_raw')} AND r_type IN (${TYPES})
      AND ${isStr('tenant_raw')} AND length(tenant) <= 64 AND match(tenant, ${TENANT})
      AND ${isStr('task_raw')} AND ${isId('task_id')}
      AND match(seq_raw, '^[1-9][0-9]{0,15}$') AND toUInt64OrZero(seq_raw) <= 9007199254740991
      AND startsWith(data_raw, '{') AND startsWith(agent_raw, '{')
      AND ${isStr('agent_id_raw')} AND ${isId('agent_id')}
      AND ${isStr('occurred_raw')} AND match(occurred_s, ${UTC_MS})
      AND isNotNull(occurred_t) AND ${inRange('occurred_s')}
      AND (received_raw = '' OR (${isStr('received_raw')} AND match(received_s, ${UTC_MS}) AND ${inRange('received_s')}))
      AND isNotNull(received_t)
      AND ${okOptNull(`am['instance']`)} AND ${okOptNull(`am['workload_identity']`)}
      AND ${okOptNull(`am['model']`)} AND ${okOptNull(`am['framework']`)}
      AND (parent_raw = '' OR (${isStr('parent_raw')} AND ${isId('parent_task_id')}))
      AND ${okOptNull(`m['prev_hash']`)} AND ${okOptNull(`m['hash']`)}
      AND ${okOptNull(`m['trace_id']`)} AND ${okOptNull(`m['span_id']`)}
      AND ${okArr('secrets_raw')} AND ${okSightings('s_list')}
      AND ${okArr('entities_raw')} AND ${okSightings('en_list')}
      AND if(${action}, ${isStr('tool_raw')} AND ${isStr('operation_raw')} AND ${isStr('outcome_raw')}, 1)
      AND ${okOptEmpty('resource_raw')} AND ${okOptEmpty('destination_raw')}
      AND if(${cred}, ${isStr('credential_raw')}, ${okOptEmpty('credential_raw')})
      AND if(${appr}, ${isStr('approval_raw')}, ${okOptEmpty('approval_raw')})
      AND if(${ended}, ${isStr('outcome_raw')}, ${okOptEmpty('outcome_raw')})
      AND ${okArr('classes_raw')} AND arrayAll(x -> startsWith(x, '"'), classes_list)
      AND NOT match(data_raw, ${NOT_AS_JS})
    ) AS row_ok
  FROM ${source}
)
WHERE ${onRefused === 'refuse' ? `if(ifNull(row_ok, 0), 0, toUInt8(concat('${REFUSED}', toString(n)))) = 0` : 'ifNull(row_ok, 0)'}`;
  return select;
}
