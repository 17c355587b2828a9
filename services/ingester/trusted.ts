import { isEventType, isJsonObject } from '../../schemas/events/index.js';
import { toClickHouseTime } from '../platform/clickhouse/event-row.js';

// Validation once, at the trust boundary.
//
// The gateway validates every event with the full zod schema (schemas/validate.ts) before it
// produces it, and marks the message with VALIDATED_HEADER (platform/kafka/headers.ts). The events topic is an internal
// trust zone: anyone who can write to it can forge events (and this header) anyway, so running
// the full schema a second time here buys no security; it cost ~10 µs of the ingester's
// ~32 µs per event (measured, bench/ingest-throughput.bench.ts). For marked messages the
// ingester runs only this structural check: every value that becomes a column has the type
// (and, for keys, the format) the row needs. Anything that fails it, and every message
// without the marker (producers other than the gateway, replays, tests), goes through the full
// zod schema, which produces the row or the dead-letter reason exactly as before: poison from
// anywhere still lands on the DLQ with its reason.

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;
const TENANT = /^[a-z0-9][a-z0-9_-]*$/;

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 128 && ID.test(v);
}

/** Absent → null (a Nullable column); a string as-is; anything else is not a row. */
function optString(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : undefined;
}

/** Absent → ''; a string as-is; anything else is not a row. */
function optEmpty(v: unknown): string | undefined {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : undefined;
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const s of v) if (typeof s !== 'string') return false;
  return true;
}

const FAIL = Symbol('fail');

/** Parallel kind/path/fp arrays of a sightings list, or FAIL. */
function sightings(v: unknown): [string[], string[], string[]] | typeof FAIL {
  const kinds: string[] = [];
  const paths: string[] = [];
  const fps: string[] = [];
  if (v === undefined) return [kinds, paths, fps];
  if (!Array.isArray(v)) return FAIL;
  for (const s of v) {
    if (
      !isJsonObject(s) ||
      typeof s.kind !== 'string' ||
      typeof s.path !== 'string' ||
      typeof s.fp !== 'string'
    )
      return FAIL;
    kinds.push(s.kind);
    paths.push(s.path);
    fps.push(s.fp);
  }
  return [kinds, paths, fps];
}

/**
 * The JSONCompactEachRow line (rows.ts EVENT_COLUMNS order) of a parsed event that passes the
 * structural check, or undefined when it does not (the caller then runs the full schema).
 * For an event the zod schema accepts, the line is identical to toLine(toRow(validated)) —
 * given the gateway's output, which already carries zod's defaults (trusted.test.ts).
 */
export function trustedLine(input: unknown, kafkaTimestampMs: number): string | undefined {
  if (!isJsonObject(input)) return undefined;
  const e = input;
  const { event_id, type, tenant, task_id, seq, data, agent } = e;
  if (!isId(event_id) || e.schema_version !== 1) return undefined;
  if (!isEventType(type)) return undefined;
  if (typeof tenant !== 'string' || tenant.length > 64 || !TENANT.test(tenant)) return undefined;
  if (!isId(task_id) || !Number.isSafeInteger(seq) || (seq as number) < 1) return undefined;
  if (!isJsonObject(data) || !isJsonObject(agent) || !isId(agent.id)) return undefined;
  if (typeof e.occurred_at !== 'string') return undefined;
  const received = e.received_at;
  if (received !== undefined && typeof received !== 'string') return undefined;

  const instance = optString(agent.instance);
  const workload = optString(agent.workload_identity);
  const model = optString(agent.model);
  const framework = optString(agent.framework);
  const parent =
    e.parent_task_id === undefined ? null : isId(e.parent_task_id) ? e.parent_task_id : undefined;
  const prevHash = optString(e.prev_hash);
  const hash = optString(e.hash);
  const traceId = optString(e.trace_id);
  const spanId = optString(e.span_id);
  if (
    instance === undefined ||
    workload === undefined ||
    model === undefined ||
    framework === undefined ||
    parent === undefined ||
    prevHash === undefined ||
    hash === undefined ||
    traceId === undefined ||
    spanId === undefined
  )
    return undefined;
  const secrets = sightings(e.secrets);
  const entities = sightings(e.entities);
  if (secrets === FAIL || entities === FAIL) return undefined;

  // Fields extracted from `data` (rows.ts extract): same rules, checked types.
  let tool: unknown = '';
  let operation: unknown = '';
  let resource: unknown = '';
  let destination: unknown = '';
  let credential: unknown = '';
  let approval: unknown = '';
  let outcome: unknown = '';
  let classes: unknown = [];
  switch (type) {
    case 'action':
      tool = data.tool;
      operation = data.operation;
      resource = optEmpty(data.resource);
      destination = optEmpty(data.destination);
      credential = optEmpty(data.credential_id);
      approval = optEmpty(data.approval_id);
      outcome = data.outcome;
      classes = data.data_classes ?? [];
      break;
    case 'credential.issued':
    case 'credential.revoked':
      credential = data.credential_id;
      break;
    case 'approval.requested':
    case 'approval.granted':
    case 'approval.denied':
      approval = data.approval_id;
      break;
    case 'task.scope_changed':
      approval = optEmpty(data.approval_id);
      break;
    case 'task.ended':
      outcome = data.outcome;
      break;
  }
  if (
    typeof tool !== 'string' ||
    typeof operation !== 'string' ||
    typeof resource !== 'string' ||
    typeof destination !== 'string' ||
    typeof credential !== 'string' ||
    typeof approval !== 'string' ||
    typeof outcome !== 'string' ||
    !isStringArray(classes)
  )
    return undefined;

  let occurredAt: string;
  let receivedAt: string;
  try {
    occurredAt = toClickHouseTime(e.occurred_at);
    receivedAt = toClickHouseTime(received ?? kafkaTimestampMs);
  } catch {
    return undefined;
  }
  return JSON.stringify([
    event_id,
    1,
    type,
    occurredAt,
    receivedAt,
    tenant,
    agent.id,
    instance,
    workload,
    model,
    framework,
    task_id,
    parent,
    seq,
    prevHash,
    hash,
    traceId,
    spanId,
    tool,
    operation,
    resource,
    destination,
    credential,
    approval,
    outcome,
    classes,
    secrets[0],
    secrets[1],
    secrets[2],
    entities[0],
    entities[1],
    entities[2],
    data,
  ]);
}
