import type { StoredEventRow } from '../event-row.js';
import { STORED_EVENT_COLUMNS } from './event-rebuild.js';
import { globToClickHouseRegex } from './glob-regex.js';
import {
  type Clause,
  filterWhere,
  type ReadContext,
  readRows,
  streamRows,
  TENANT_CONDITION,
  type TenantArg,
  tenantParams,
} from './run.js';

// The `events` table, read. Query text is built only from the constant clauses below, chosen by
// which filters are present; every value is a parameter. Copies of a redelivered event that no
// merge has collapsed yet are read once (FINAL or LIMIT 1 BY event_id).

/** Filters of an agent-history query; every one optional, all must hold. */
export interface EventFilter {
  agent?: string;
  workload_identity?: string;
  task?: string;
  type?: string;
  tool?: string;
  operation?: string;
  /** Glob over `resource` (platform/glob.ts path syntax). */
  resource?: string;
  /** Glob over `destination`. */
  destination?: string;
  outcome?: string;
  data_class?: string;
  /** Events named as evidence by an alert of this rule. */
  alert_rule?: string;
  /** Inclusive, ISO-8601. */
  from?: string;
  /** Exclusive, ISO-8601. */
  to?: string;
}

/** A keyset position: the last row of the previous page (newest first). */
export interface EventCursor {
  occurred_at: string;
  event_id: string;
}

const CLAUSES: Record<keyof EventFilter, Clause> = {
  agent: { param: 'agent', sql: 'agent_id = {agent:String}' },
  workload_identity: { param: 'wi', sql: 'workload_identity = {wi:String}' },
  task: { param: 'task', sql: 'task_id = {task:String}' },
  type: { param: 'type', sql: 'type = {type:String}' },
  tool: { param: 'tool', sql: 'tool = {tool:String}' },
  operation: { param: 'op', sql: 'operation = {op:String}' },
  resource: {
    param: 'resource_re',
    sql: 'match(resource, {resource_re:String})',
    bind: (v) => globToClickHouseRegex(v),
  },
  destination: {
    param: 'destination_re',
    sql: 'match(destination, {destination_re:String})',
    bind: (v) => globToClickHouseRegex(v),
  },
  outcome: { param: 'outcome', sql: 'outcome = {outcome:String}' },
  data_class: { param: 'data_class', sql: 'has(data_classes, {data_class:String})' },
  alert_rule: {
    param: 'rule',
    sql: `event_id IN (SELECT arrayJoin(evidence) FROM {db:Identifier}.alerts
                       WHERE ${TENANT_CONDITION()} AND rule_id = {rule:String})`,
  },
  from: { param: 'from', sql: "occurred_at >= parseDateTime64BestEffort({from:String}, 3, 'UTC')" },
  to: { param: 'to', sql: "occurred_at < parseDateTime64BestEffort({to:String}, 3, 'UTC')" },
};

const where = (tenant: TenantArg, filter: EventFilter) => filterWhere(tenant, filter, CLAUSES, 'event');

export class EventsRepository {
  constructor(private readonly ctx: ReadContext) {}

  /** One task's events in seq order: its timeline. */
  task(tenant: string, taskId: string): Promise<StoredEventRow[]> {
    return readRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND task_id = {task:String}
       ORDER BY seq, event_id LIMIT 1 BY event_id`,
      { ...tenantParams(tenant), task: taskId },
    );
  }

  /** One task's events in seq order, streamed (a task export): never the whole task in memory. */
  streamTask(tenant: string, taskId: string): AsyncGenerator<StoredEventRow> {
    return streamRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND task_id = {task:String}
       ORDER BY seq, event_id LIMIT 1 BY event_id`,
      { ...tenantParams(tenant), task: taskId },
    );
  }

  /** Events by id (an alert's evidence), once each, in seq order within their task. */
  byIds(tenant: string, eventIds: readonly string[]): Promise<StoredEventRow[]> {
    if (eventIds.length === 0) return Promise.resolve([]);
    return readRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND event_id IN {ids:Array(String)}
       ORDER BY task_id, seq, event_id LIMIT 1 BY event_id LIMIT 1000`,
      { ...tenantParams(tenant), ids: eventIds },
    );
  }

  /**
   * The scope-bearing events (declared, scope changed, delegated, ended) of some tasks, in seq
   * order: what a delegation tree needs of a parent and its children without reading their actions.
   */
  scopeEvents(tenant: string, taskIds: readonly string[]): Promise<StoredEventRow[]> {
    if (taskIds.length === 0) return Promise.resolve([]);
    return readRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND task_id IN {tasks:Array(String)}
         AND type IN ('task.declared', 'task.scope_changed', 'task.delegated', 'task.ended')
       ORDER BY task_id, seq, event_id LIMIT 1 BY event_id LIMIT 10000`,
      { ...tenantParams(tenant), tasks: taskIds },
    );
  }

  /** Tasks whose events name `parentTaskId` as parent (the delegation tree's next level). */
  async children(tenant: string, parentTaskId: string): Promise<string[]> {
    const rows = await readRows<{ task_id: string }>(
      this.ctx,
      `SELECT DISTINCT task_id FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND parent_task_id = {parent:String}
       ORDER BY task_id LIMIT 1000`,
      { ...tenantParams(tenant), parent: parentTaskId },
    );
    return rows.map((r) => r.task_id);
  }

  /** A page of history, newest first, after `cursor`; stable order (occurred_at, event_id). */
  history(
    tenant: string,
    filter: EventFilter,
    limit: number,
    cursor?: EventCursor,
  ): Promise<StoredEventRow[]> {
    const w = where(tenant, filter);
    const after = cursor
      ? ` AND (occurred_at, event_id) < (parseDateTime64BestEffort({c_at:String}, 3, 'UTC'), {c_id:String})`
      : '';
    // Keys first: the page's (task_id, seq, event_id) from the narrow columns (served by the
    // by_agent_keys projection when filtered by agent and time), then the wide columns (`data`)
    // of those rows only, found through the sort key. Reading every column of every match and
    // sorting it cost ~4x the CPU on a tenant with 640k events (bench query, README).
    return readRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND (task_id, seq, event_id) IN (
         SELECT task_id, seq, event_id FROM {db:Identifier}.events
         WHERE ${w.sql}${after}
         ORDER BY occurred_at DESC, event_id DESC LIMIT 1 BY event_id LIMIT {limit:UInt32})
       ORDER BY occurred_at DESC, event_id DESC LIMIT 1 BY event_id LIMIT {limit:UInt32}`,
      { ...w.params, limit, ...(cursor ? { c_at: cursor.occurred_at, c_id: cursor.event_id } : {}) },
    );
  }

  /** How many distinct events match. */
  async count(tenant: string, filter: EventFilter): Promise<number> {
    const w = where(tenant, filter);
    const rows = await readRows<{ n: string }>(
      this.ctx,
      `SELECT uniqExact(event_id) AS n FROM {db:Identifier}.events WHERE ${w.sql}`,
      w.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Rows as stored (redelivered copies included) and distinct events, for a set of tasks. */
  async storedCounts(tenant: string, taskIds: readonly string[]): Promise<{ raw: number; distinct: number }> {
    const rows = await readRows<{ raw: string; distinct: string }>(
      this.ctx,
      `SELECT count() AS raw, uniqExact(event_id) AS distinct FROM {db:Identifier}.events
       WHERE ${TENANT_CONDITION()} AND task_id IN {tasks:Array(String)}`,
      { ...tenantParams(tenant), tasks: taskIds },
    );
    return { raw: Number(rows[0]?.raw ?? 0), distinct: Number(rows[0]?.distinct ?? 0) };
  }

  /** Every matching event, streamed in detector order (occurred_at, task_id, seq): exports, backtests. */
  stream(tenant: TenantArg, filter: EventFilter): AsyncGenerator<StoredEventRow> {
    const w = where(tenant, filter);
    return streamRows(
      this.ctx,
      `SELECT ${STORED_EVENT_COLUMNS} FROM {db:Identifier}.events FINAL
       WHERE ${w.sql} ORDER BY occurred_at, task_id, seq`,
      w.params,
    );
  }

  /** Who touched resources (or destinations) matching a glob: one row per agent and task. */
  touched(
    tenant: string,
    field: 'resource' | 'destination',
    glob: string,
    range: Pick<EventFilter, 'from' | 'to'> = {},
  ): Promise<TouchedRow[]> {
    const w = where(tenant, { ...range, [field]: glob });
    return readRows(
      this.ctx,
      `SELECT agent_id, task_id, count() AS actions, groupUniqArray(100)(${field === 'destination' ? 'destination' : 'resource'}) AS values,
              groupUniqArray(20)(operation) AS operations, min(occurred_at) AS first_at, max(occurred_at) AS last_at
       FROM (SELECT agent_id, task_id, resource, destination, operation, occurred_at FROM {db:Identifier}.events
             WHERE ${w.sql} AND type = 'action' LIMIT 1 BY event_id)
       GROUP BY agent_id, task_id ORDER BY last_at DESC LIMIT 10000`,
      w.params,
    );
  }
}

export interface TouchedRow {
  agent_id: string;
  task_id: string;
  actions: string | number;
  values: string[];
  operations: string[];
  first_at: string;
  last_at: string;
}
