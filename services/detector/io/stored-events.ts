import type { ClickHouseClient } from '@clickhouse/client';
import type { AgentEvent } from '../../../schemas/events/index.js';
import { validateEvent } from '../../../schemas/validate.js';
import { ALL_TENANTS, createReadLayer, rowToEventInput } from '../../platform/clickhouse/read/index.js';

// Stored events back into events, for backtests: the read layer streams the rows
// (platform/clickhouse/read), each is rebuilt (event-rebuild.ts) and validated again.

export interface StoredEventsQuery {
  tenant?: string;
  /** Inclusive, ISO. */
  from?: string;
  /** Exclusive, ISO. */
  to?: string;
}

export interface StoredEventsRead {
  events: AsyncGenerator<AgentEvent>;
  /** Rows that did not rebuild into a valid event (counted, skipped). */
  invalid(): number;
}

/**
 * Stream stored events in detector order: (occurred_at, task_id, seq), one copy per event_id
 * (FINAL collapses redelivered copies that a merge has not yet removed).
 */
export function readStoredEvents(
  clickhouse: ClickHouseClient,
  database: string,
  q: StoredEventsQuery,
): StoredEventsRead {
  let invalid = 0;
  const read = createReadLayer({ client: clickhouse, database, caller: 'backtest', maxExecutionS: 3600 });
  async function* events(): AsyncGenerator<AgentEvent> {
    const { tenant, ...range } = q;
    for await (const row of read.events.stream(tenant ?? ALL_TENANTS, range)) {
      const r = validateEvent(rowToEventInput(row));
      if (r.ok) yield r.value;
      else invalid++;
    }
  }
  return { events: events(), invalid: () => invalid };
}
