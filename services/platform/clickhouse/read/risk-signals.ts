import { ClickHouseError } from '@clickhouse/client';
import type { RiskSignalRow } from '../risk-signal-row.js';
import { type ReadContext, readRows, TENANT_CONDITION, tenantParams } from './run.js';

// The `risk_signals` table, read. A replay records a signal again under the same key; one row
// per key is read (LIMIT 1 BY), merged or not.

/** ClickHouse's UNKNOWN_TABLE. */
const UNKNOWN_TABLE = '60';

export class RiskSignalsRepository {
  constructor(private readonly ctx: ReadContext) {}

  /**
   * A task's risk signals, in the order they were observed; undefined while the table does not
   * exist yet. The API runs no migrations (its credentials may be read-only), and a query API
   * upgraded before the detector that creates the table (migration 0009) must still serve
   * timelines: the caller says the signals are unavailable and why, instead of failing.
   */
  async forTask(tenant: string, taskId: string): Promise<RiskSignalRow[] | undefined> {
    try {
      return await readRows<RiskSignalRow>(
        this.ctx,
        `SELECT tenant, task_id, event_id, rule_id, agent_id, score, occurred_at, explanation
         FROM {db:Identifier}.risk_signals
         WHERE ${TENANT_CONDITION()} AND task_id = {task:String}
         ORDER BY occurred_at, event_id, rule_id
         LIMIT 1 BY event_id, rule_id`,
        { ...tenantParams(tenant), task: taskId },
      );
    } catch (err) {
      if (err instanceof ClickHouseError && err.code === UNKNOWN_TABLE) return undefined;
      throw err;
    }
  }
}
