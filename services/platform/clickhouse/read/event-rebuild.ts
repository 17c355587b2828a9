import type { Sighting } from '../../../../schemas/events/index.js';
import { fastEventHash, rememberHashVerdict } from '../../chain-hash.js';
import { fromClickHouseTime, type StoredEventRow } from '../event-row.js';

// Stored rows back into events: the inverse of services/ingester/rows.ts. The row keeps every
// envelope field in its own (Nullable) column and the validated payload in `data`, so the event
// is rebuilt as the detector saw it: absent fields left out, sightings re-zipped.
//
// One loss: `occurred_at` is stored as DateTime64(3, 'UTC'), not as the text that was hashed.
// UTC text with milliseconds (what the SDK and gateway write) round-trips; other spellings are
// recovered by trying the few common ones against the stored hash (an offset other than Z
// cannot be, and shows up as a chain break).

/** The columns a rebuild needs, in one place for every repository that reads events. */
export const STORED_EVENT_COLUMNS = `event_id, schema_version, type, occurred_at, received_at, tenant, agent_id,
  agent_instance, workload_identity, agent_model, agent_framework, task_id, parent_task_id, seq,
  prev_hash, hash, trace_id, span_id, secret_kinds, secret_paths, secret_fps, entity_kinds,
  entity_paths, entity_fps, data`;

function zip(kinds: string[], paths: string[], fps: string[]): Sighting[] | undefined {
  if (kinds.length === 0) return undefined;
  return kinds.map((kind, i) => ({ kind, path: paths[i] ?? '', fp: fps[i] ?? '' }));
}

/** The raw event object (not yet validated). */
export function rowToEventInput(row: StoredEventRow): Record<string, unknown> {
  const agent: Record<string, unknown> = { id: row.agent_id };
  if (row.agent_instance !== null) agent.instance = row.agent_instance;
  if (row.workload_identity !== null) agent.workload_identity = row.workload_identity;
  if (row.agent_model !== null) agent.model = row.agent_model;
  if (row.agent_framework !== null) agent.framework = row.agent_framework;
  const e: Record<string, unknown> = {
    event_id: row.event_id,
    schema_version: Number(row.schema_version),
    type: row.type,
    occurred_at: fromClickHouseTime(row.occurred_at),
    received_at: fromClickHouseTime(row.received_at),
    tenant: row.tenant,
    agent,
    task_id: row.task_id,
    seq: Number(row.seq),
    data: JSON.parse(row.data),
  };
  const optional = { parent_task_id: row.parent_task_id, prev_hash: row.prev_hash, hash: row.hash };
  for (const [k, v] of Object.entries(optional)) if (v !== null) e[k] = v;
  if (row.trace_id !== null) e.trace_id = row.trace_id;
  if (row.span_id !== null) e.span_id = row.span_id;
  const secrets = zip(row.secret_kinds, row.secret_paths, row.secret_fps);
  if (secrets) e.secrets = secrets;
  const entities = zip(row.entity_kinds, row.entity_paths, row.entity_fps);
  if (entities) e.entities = entities;
  restoreOccurredAtSpelling(e);
  return e;
}

/**
 * If the hash does not verify, try the other usual spellings of the same instant. The verdict is
 * remembered with the event (platform/chain-hash.ts), so a chain check after this hashes nothing.
 */
function restoreOccurredAtSpelling(e: Record<string, unknown>): void {
  if (typeof e.hash !== 'string') return;
  const canonical = e.occurred_at as string;
  const spellings = [
    canonical,
    canonical.replace(/\.000Z$/, 'Z'),
    canonical.replace(/0+Z$/, 'Z').replace(/\.Z$/, 'Z'),
  ];
  for (const [i, v] of spellings.entries()) {
    if (i > 0 && spellings.indexOf(v) < i) continue; // the same spelling twice
    e.occurred_at = v;
    if (fastEventHash(e) === e.hash) {
      rememberHashVerdict(e, true);
      return;
    }
  }
  e.occurred_at = canonical;
  rememberHashVerdict(e, false);
}
