import type { AgentEvent, Sighting } from '../../schemas/events/index.js';

// Event → `events` row (migrations/0001_events.sql). Pure: same event and Kafka timestamp,
// same row, so a redelivered message produces an identical row.

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

/** The row as an array in EVENT_COLUMNS order. */
export function toCompact(row: EventRow): unknown[] {
  return EVENT_COLUMNS.map((c) => row[c]);
}

/**
 * The row as one JSONCompactEachRow line (no newline). Batches hold these strings rather than
 * row objects: a string is one cheap object for the garbage collector, where a row held for a
 * second was many (GC was ~15 % of the ingester's CPU before).
 */
export function toLine(row: EventRow): string {
  return JSON.stringify(toCompact(row));
}

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

/** Fields extracted from `data` for filtering; the JSON in `data` stays the full record. */
function extract(event: AgentEvent) {
  const out = {
    tool: '',
    operation: '',
    resource: '',
    destination: '',
    credential_id: '',
    approval_id: '',
    outcome: '',
    data_classes: [] as string[],
  };
  switch (event.type) {
    case 'action': {
      const d = event.data;
      out.tool = d.tool;
      out.operation = d.operation;
      out.resource = d.resource ?? '';
      out.destination = d.destination ?? '';
      out.credential_id = d.credential_id ?? '';
      out.approval_id = d.approval_id ?? '';
      out.outcome = d.outcome;
      out.data_classes = d.data_classes;
      break;
    }
    case 'credential.issued':
    case 'credential.revoked':
      out.credential_id = event.data.credential_id;
      break;
    case 'approval.requested':
    case 'approval.granted':
    case 'approval.denied':
      out.approval_id = event.data.approval_id;
      break;
    case 'task.scope_changed':
      out.approval_id = event.data.approval_id ?? '';
      break;
    case 'task.ended':
      out.outcome = event.data.outcome;
      break;
  }
  return out;
}

function sightings(list: Sighting[] | undefined) {
  const kinds: string[] = [];
  const paths: string[] = [];
  const fps: string[] = [];
  for (const s of list ?? []) {
    kinds.push(s.kind);
    paths.push(s.path);
    fps.push(s.fp);
  }
  return { kinds, paths, fps };
}

/**
 * @param kafkaTimestampMs the message's timestamp, used as received_at when the gateway did not
 *   set one (events produced straight to Kafka): stable across redeliveries, unlike "now".
 */
export function toRow(event: AgentEvent, kafkaTimestampMs: number): EventRow {
  const secrets = sightings(event.secrets);
  const entities = sightings(event.entities);
  return {
    event_id: event.event_id,
    schema_version: event.schema_version,
    type: event.type,
    occurred_at: toClickHouseTime(event.occurred_at),
    received_at: toClickHouseTime(event.received_at ?? kafkaTimestampMs),
    tenant: event.tenant,
    agent_id: event.agent.id,
    agent_instance: event.agent.instance ?? null,
    workload_identity: event.agent.workload_identity ?? null,
    agent_model: event.agent.model ?? null,
    agent_framework: event.agent.framework ?? null,
    task_id: event.task_id,
    parent_task_id: event.parent_task_id ?? null,
    seq: event.seq,
    prev_hash: event.prev_hash ?? null,
    hash: event.hash ?? null,
    trace_id: event.trace_id ?? null,
    span_id: event.span_id ?? null,
    ...extract(event),
    secret_kinds: secrets.kinds,
    secret_paths: secrets.paths,
    secret_fps: secrets.fps,
    entity_kinds: entities.kinds,
    entity_paths: entities.paths,
    entity_fps: entities.fps,
    data: event.data,
  };
}
