import type { ClickHouseClient } from '@clickhouse/client';
import { type ChainProblem, verifyChain } from '../../schemas/chain.js';
import type { AgentEvent } from '../../schemas/index.js';
import { validateEvent } from '../../schemas/validate.js';
import { rowToEventInput } from '../../services/detector/service/stored-events.js';
import type { StoredEventRow } from '../../services/platform/clickhouse/event-row.js';

// One task reconstructed from ClickHouse alone, the incident responder's view: the stored
// events (one copy per event_id, in seq order), the alerts raised on the task, and whether the
// record is complete and untampered (schemas/chain.ts recomputed over the stored events).

export interface TimelineAlert {
  alert_id: string;
  rule_id: string;
  severity: string;
  title: string;
  explanation: string;
  evidence: string[];
  scope_element: string | null;
}

export interface TaskTimeline {
  tenant: string;
  taskId: string;
  events: AgentEvent[];
  /** Stored rows that did not rebuild into a valid event (0 on a sound record). */
  unreadable: number;
  alerts: TimelineAlert[];
  /** alert rule ids by event id: the alerts whose evidence names that event. */
  flagged: Map<string, string[]>;
  /** The alert whose evidence ends with an event is the one that event triggered. */
  triggered: Map<string, string[]>;
  chain: { ok: boolean; problems: ChainProblem[] };
  ended: boolean;
  /** Stored, starting at the declaration, no seq gaps, every row readable, chain verifies. */
  sound: boolean;
}

const EVENT_COLUMNS = `event_id, schema_version, type, occurred_at, received_at, tenant, agent_id,
  agent_instance, workload_identity, agent_model, agent_framework, task_id, parent_task_id, seq,
  prev_hash, hash, trace_id, span_id, secret_kinds, secret_paths, secret_fps, entity_kinds,
  entity_paths, entity_fps, data`;

export async function readTimeline(
  ch: ClickHouseClient,
  database: string,
  tenant: string,
  taskId: string,
): Promise<TaskTimeline> {
  // LIMIT 1 BY event_id: a redelivered copy that no merge has collapsed yet is read once.
  const rows = await ch.query({
    query: `SELECT ${EVENT_COLUMNS} FROM {db:Identifier}.events
            WHERE tenant = {tenant:String} AND task_id = {task:String}
            ORDER BY seq, event_id LIMIT 1 BY event_id`,
    query_params: { db: database, tenant, task: taskId },
    format: 'JSONEachRow',
  });
  const events: AgentEvent[] = [];
  let unreadable = 0;
  for (const row of await rows.json<StoredEventRow>()) {
    const r = validateEvent(rowToEventInput(row));
    if (r.ok) events.push(r.value);
    else unreadable++;
  }

  const alertRows = await ch.query({
    query: `SELECT alert_id, rule_id, severity, title, explanation, evidence, scope_element
            FROM {db:Identifier}.alerts FINAL
            WHERE tenant = {tenant:String} AND task_id = {task:String}
            ORDER BY occurred_at, rule_id`,
    query_params: { db: database, tenant, task: taskId },
    format: 'JSONEachRow',
  });
  const alerts = await alertRows.json<TimelineAlert>();
  const flagged = new Map<string, string[]>();
  const triggered = new Map<string, string[]>();
  for (const a of alerts) {
    for (const id of a.evidence) flagged.set(id, [...(flagged.get(id) ?? []), a.rule_id]);
    const last = a.evidence.at(-1);
    if (last) triggered.set(last, [...(triggered.get(last) ?? []), a.rule_id]);
  }

  const chain = verifyChain(events as unknown as Parameters<typeof verifyChain>[0]);
  const sound = events[0]?.type === 'task.declared' && unreadable === 0 && chain.ok;
  return {
    tenant,
    taskId,
    events,
    unreadable,
    alerts,
    flagged,
    triggered,
    chain,
    sound,
    ended: events.some((e) => e.type === 'task.ended'),
  };
}
