import { type Clause, filterWhere, type ReadContext, readRows } from './run.js';

// The `agent_actions_per_minute` aggregate (migrations/0004, kept by a materialised view at
// insert time), read: an agent's actions and failed actions per minute. Its counts are
// uniqState(event_id), so a redelivered batch is not counted twice; read with uniqMerge and
// GROUP BY, since parts not yet merged hold partial states of the same minute.

export interface AgentMinuteRow {
  /** The minute's start, ClickHouse DateTime text (UTC). */
  minute: string;
  actions: string | number;
  failures: string | number;
}

interface ActivityFilter {
  agent: string;
  from?: string;
  to?: string;
}

const CLAUSES: Record<keyof ActivityFilter, Clause> = {
  agent: { param: 'agent', sql: 'agent_id = {agent:String}' },
  // A minute is in the range when it starts in [from, to).
  from: { param: 'from', sql: "minute >= parseDateTime64BestEffort({from:String}, 3, 'UTC')" },
  to: { param: 'to', sql: "minute < parseDateTime64BestEffort({to:String}, 3, 'UTC')" },
};

export class AgentActivityRepository {
  constructor(private readonly ctx: ReadContext) {}

  /**
   * The agent's minutes that have actions, newest first, at most `limit`; minutes starting in
   * [from, to) when given (ISO-8601).
   */
  async perMinute(
    tenant: string,
    agent: string,
    range: { from?: string; to?: string },
    limit: number,
  ): Promise<AgentMinuteRow[]> {
    if (!agent) throw new TypeError('an activity read needs an agent');
    const w = filterWhere(tenant, { ...range, agent }, CLAUSES, 'activity');
    return readRows(
      this.ctx,
      `SELECT minute, uniqMerge(actions) AS actions, uniqMerge(failures) AS failures
       FROM {db:Identifier}.agent_actions_per_minute
       WHERE ${w.sql}
       GROUP BY minute ORDER BY minute DESC LIMIT {limit:UInt32}`,
      { ...w.params, limit },
    );
  }
}
