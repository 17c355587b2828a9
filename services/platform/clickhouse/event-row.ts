// The `events` table's row (migrations/0001_events.sql), shared by what writes it (the ingester)
// and what reads events back (backtest, timelines): one definition of the columns and of the
// DateTime64(3, 'UTC') text both ways.

export interface EventRow {
  event_id: string;
  schema_version: number;
  type: string;
  occurred_at: string;
  received_at: string;
  tenant: string;
  agent_id: string;
  agent_instance: string | null;
  workload_identity: string | null;
  agent_model: string | null;
  agent_framework: string | null;
  task_id: string;
  parent_task_id: string | null;
  seq: number;
  prev_hash: string | null;
  hash: string | null;
  trace_id: string | null;
  span_id: string | null;
  tool: string;
  operation: string;
  resource: string;
  destination: string;
  credential_id: string;
  approval_id: string;
  outcome: string;
  data_classes: string[];
  secret_kinds: string[];
  secret_paths: string[];
  secret_fps: string[];
  entity_kinds: string[];
  entity_paths: string[];
  entity_fps: string[];
  /**
   * The validated payload. Sent as a JSON object and stored as its JSON text in a String column
   * (input_format_json_read_objects_as_strings): stringifying it here would escape it twice.
   */
  data: unknown;
}

/** Column order of the compact insert format (JSONCompactEachRow): every EventRow field once. */
export const EVENT_COLUMNS = [
  'event_id',
  'schema_version',
  'type',
  'occurred_at',
  'received_at',
  'tenant',
  'agent_id',
  'agent_instance',
  'workload_identity',
  'agent_model',
  'agent_framework',
  'task_id',
  'parent_task_id',
  'seq',
  'prev_hash',
  'hash',
  'trace_id',
  'span_id',
  'tool',
  'operation',
  'resource',
  'destination',
  'credential_id',
  'approval_id',
  'outcome',
  'data_classes',
  'secret_kinds',
  'secret_paths',
  'secret_fps',
  'entity_kinds',
  'entity_paths',
  'entity_fps',
  'data',
] as const satisfies ReadonlyArray<keyof EventRow>;

/** A row as read back with JSONEachRow: UInt64 `seq` may arrive as text, `data` is JSON text. */
export type StoredEventRow = Omit<
  EventRow,
  | 'seq'
  | 'data'
  | 'tool'
  | 'operation'
  | 'resource'
  | 'destination'
  | 'credential_id'
  | 'approval_id'
  | 'outcome'
  | 'data_classes'
> & { seq: string | number; data: string };

const UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z$/;

/**
 * ClickHouse DateTime64(3, 'UTC') text, `YYYY-MM-DD hh:mm:ss.sss`: the basic input format,
 * so inserts need no best-effort parsing. Offsets in the event are converted to UTC.
 */
export function toClickHouseTime(iso: string | number): string {
  // Fast path (measured ~4x faster than Date): UTC text with 0-3 fraction digits, as gateways write it.
  if (typeof iso === 'string' && UTC_MS.test(iso)) {
    const frac = iso.length > 20 ? iso.slice(20, iso.length - 1) : '';
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac.padEnd(3, '0')}`;
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a timestamp: ${String(iso).slice(0, 64)}`);
  const s = d.toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 23)}`;
}

/** `YYYY-MM-DD hh:mm:ss.sss` (UTC) → `YYYY-MM-DDThh:mm:ss.sssZ`. */
export function fromClickHouseTime(t: string): string {
  return `${t.replace(' ', 'T')}${t.includes('.') ? '' : '.000'}Z`;
}
