import type { AgentEvent, Sighting } from '../../schemas/events/index.js';
import { EVENT_COLUMNS, type EventRow, toClickHouseTime } from '../platform/clickhouse/event-row.js';

// Event → `events` row (migrations/0001_events.sql). Pure: same event and Kafka timestamp,
// same row, so a redelivered message produces an identical row.

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
