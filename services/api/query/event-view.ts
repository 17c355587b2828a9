import type { StoredEventRow } from '../../platform/clickhouse/event-row.js';
import { fromClickHouseTime } from '../../platform/clickhouse/event-row.js';
import { rowToEventInput } from '../../platform/clickhouse/read/index.js';

// A stored row as the API shows it: the event rebuilt as the collector sent it (envelope and
// data). A row whose data no longer parses is shown by its envelope, marked unreadable, never
// dropped: a record that cannot be read back is itself a finding.

export type EventView = Record<string, unknown> & { event_id: string; seq: number; type: string };

export function toEventView(row: StoredEventRow): EventView {
  try {
    return rowToEventInput(row) as EventView;
  } catch {
    return {
      event_id: row.event_id,
      type: row.type,
      occurred_at: fromClickHouseTime(row.occurred_at),
      tenant: row.tenant,
      agent: { id: row.agent_id },
      task_id: row.task_id,
      seq: Number(row.seq),
      data: null,
      unreadable: true,
    };
  }
}

/** ClickHouse DateTime64 text (or null) as ISO-8601 UTC. */
export const isoTime = (t: string | null | undefined): string | null => (t ? fromClickHouseTime(t) : null);
