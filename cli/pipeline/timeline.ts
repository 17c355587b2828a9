import type { ClickHouseClient } from '@clickhouse/client';
import { type ChainProblem, verifyChain } from '../../schemas/chain.js';
import type { AgentEvent } from '../../schemas/index.js';
import { validateEvent } from '../../schemas/validate.js';
import { createReadLayer, rowToEventInput } from '../../services/platform/clickhouse/read/index.js';

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

export async function readTimeline(
  ch: ClickHouseClient,
  database: string,
  tenant: string,
  taskId: string,
): Promise<TaskTimeline> {
  const read = createReadLayer({ client: ch, database, caller: 'timeline' });
  const events: AgentEvent[] = [];
  let unreadable = 0;
  for (const row of await read.events.task(tenant, taskId)) {
    const r = validateEvent(rowToEventInput(row));
    if (r.ok) events.push(r.value);
    else unreadable++;
  }
  const alerts: TimelineAlert[] = (await read.alerts.forTasks(tenant, [taskId])).map((a) => ({
    alert_id: a.alert_id,
    rule_id: a.rule_id,
    severity: a.severity,
    title: a.title,
    explanation: a.explanation,
    evidence: a.evidence,
    scope_element: a.scope_element,
  }));
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
