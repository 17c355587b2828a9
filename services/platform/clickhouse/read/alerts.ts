import type { AlertRow } from '../alert-row.js';
import {
  type Clause,
  filterWhere,
  type ReadContext,
  readRows,
  TENANT_CONDITION,
  type TenantArg,
  tenantParams,
} from './run.js';

// The `alerts` table, read. A replayed alert or a status change is a new row for the same
// alert_id; the newest (updated_at) wins, so reads use FINAL.

/** A row as read back: the row as written (updated_at is the column's). */
export type StoredAlertRow = AlertRow;

export interface AlertFilter {
  severity?: string;
  rule?: string;
  agent?: string;
  task?: string;
  status?: string;
  dedup_key?: string;
  /** created_at, inclusive, ISO-8601. */
  from?: string;
  /** created_at, exclusive. */
  to?: string;
  /** occurred_at (when the evidence happened), inclusive: where an alert marks a timeline. */
  occurred_from?: string;
  /** occurred_at, exclusive. */
  occurred_to?: string;
}

export interface AlertGroupRow {
  dedup_key: string;
  alerts: string | number;
  rules: string[];
  tasks: string[];
  statuses: string[];
  severity: string;
  first_at: string;
  last_at: string;
  latest_alert_id: string;
}

/** A keyset position: the last row of the previous page (newest first). */
export interface AlertCursor {
  created_at: string;
  alert_id: string;
}

const COLUMNS = `alert_id, rule_id, severity, title, explanation, tenant, task_id, agent_id, workload_identity,
  evidence, scope_element, frameworks, dedup_key, occurred_at, created_at, status, labels, link,
  risk_score, risk_signals`;

const CLAUSES: Record<keyof AlertFilter, Clause> = {
  severity: { param: 'severity', sql: 'severity = {severity:String}' },
  rule: { param: 'rule', sql: 'rule_id = {rule:String}' },
  agent: { param: 'agent', sql: 'agent_id = {agent:String}' },
  task: { param: 'task', sql: 'task_id = {task:String}' },
  // The current status (schemas/alert-status.ts currentAlertStatus): a resolve rewrites the row,
  // an acknowledge is only in alert_status, so `acknowledged` needs that table.
  status: {
    param: 'status',
    sql: `multiIf(status = 'resolved', 'resolved',
                  alert_id IN (SELECT alert_id FROM {db:Identifier}.alert_status
                               WHERE ${TENANT_CONDITION()} AND type = 'alert.acknowledged'), 'acknowledged',
                  status) = {status:String}`,
  },
  dedup_key: { param: 'dedup_key', sql: 'dedup_key = {dedup_key:String}' },
  from: { param: 'from', sql: "created_at >= parseDateTime64BestEffort({from:String}, 3, 'UTC')" },
  to: { param: 'to', sql: "created_at < parseDateTime64BestEffort({to:String}, 3, 'UTC')" },
  occurred_from: {
    param: 'o_from',
    sql: "occurred_at >= parseDateTime64BestEffort({o_from:String}, 3, 'UTC')",
  },
  occurred_to: { param: 'o_to', sql: "occurred_at < parseDateTime64BestEffort({o_to:String}, 3, 'UTC')" },
};

const where = (tenant: TenantArg, filter: AlertFilter) => filterWhere(tenant, filter, CLAUSES, 'alert');

export class AlertsRepository {
  constructor(private readonly ctx: ReadContext) {}

  /** Alerts raised on some tasks, oldest first. */
  forTasks(tenant: string, taskIds: readonly string[]): Promise<StoredAlertRow[]> {
    return readRows(
      this.ctx,
      `SELECT ${COLUMNS} FROM {db:Identifier}.alerts FINAL
       WHERE ${TENANT_CONDITION()} AND task_id IN {tasks:Array(String)} ORDER BY created_at, rule_id`,
      { ...tenantParams(tenant), tasks: taskIds },
    );
  }

  async get(tenant: string, alertId: string): Promise<StoredAlertRow | undefined> {
    const rows = await readRows<StoredAlertRow>(
      this.ctx,
      `SELECT ${COLUMNS} FROM {db:Identifier}.alerts FINAL
       WHERE ${TENANT_CONDITION()} AND alert_id = {id:String} LIMIT 1`,
      { ...tenantParams(tenant), id: alertId },
    );
    return rows[0];
  }

  /** A page, newest first, after `cursor`; stable order (created_at, alert_id). */
  list(tenant: string, filter: AlertFilter, limit: number, cursor?: AlertCursor): Promise<StoredAlertRow[]> {
    const w = where(tenant, filter);
    const after = cursor
      ? ` AND (created_at, alert_id) < (parseDateTime64BestEffort({c_at:String}, 3, 'UTC'), {c_id:String})`
      : '';
    return readRows(
      this.ctx,
      `SELECT ${COLUMNS} FROM {db:Identifier}.alerts FINAL
       WHERE ${w.sql}${after} ORDER BY created_at DESC, alert_id DESC LIMIT {limit:UInt32}`,
      { ...w.params, limit, ...(cursor ? { c_at: cursor.created_at, c_id: cursor.alert_id } : {}) },
    );
  }

  /**
   * Alerts grouped by dedup key (what pages once per grouping window), busiest-recent first:
   * how many, the worst severity, first and last raised, and the newest alert of each group.
   */
  async groups(tenant: string, filter: AlertFilter, limit: number): Promise<AlertGroupRow[]> {
    const w = where(tenant, filter);
    // The worst severity is selected under its own name: aliased `severity`, ClickHouse would
    // read the filter's `severity = …` as the aggregate and refuse the query.
    const rows = await readRows<Omit<AlertGroupRow, 'severity'> & { worst_severity: string }>(
      this.ctx,
      `SELECT dedup_key, count() AS alerts, groupUniqArray(10)(rule_id) AS rules,
              groupUniqArray(10)(task_id) AS tasks, groupUniqArray(10)(status) AS statuses,
              argMax(severity, multiIf(severity = 'critical', 4, severity = 'high', 3, severity = 'medium', 2, severity = 'low', 1, 0)) AS worst_severity,
              min(created_at) AS first_at, max(created_at) AS last_at, argMax(alert_id, (created_at, alert_id)) AS latest_alert_id
       FROM {db:Identifier}.alerts FINAL WHERE ${w.sql}
       GROUP BY dedup_key ORDER BY last_at DESC, dedup_key LIMIT {limit:UInt32}`,
      { ...w.params, limit },
    );
    return rows.map(({ worst_severity, ...r }) => ({ ...r, severity: worst_severity }));
  }

  /** alert_ids created at or after `sinceMs` (the detector's restart: what the table already has). */
  async idsSince(tenant: TenantArg, sinceMs: number): Promise<string[]> {
    const rows = await readRows<{ alert_id: string }>(
      this.ctx,
      `SELECT DISTINCT alert_id FROM {db:Identifier}.alerts
       WHERE ${TENANT_CONDITION()} AND created_at >= fromUnixTimestamp64Milli({since:Int64})`,
      { ...tenantParams(tenant), since: sinceMs },
    );
    return rows.map((r) => r.alert_id);
  }

  /** Which of `ids` the table holds. */
  async idsAmong(tenant: TenantArg, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 10_000) {
      const rows = await readRows<{ alert_id: string }>(
        this.ctx,
        `SELECT DISTINCT alert_id FROM {db:Identifier}.alerts
         WHERE ${TENANT_CONDITION()} AND alert_id IN {ids:Array(String)}`,
        { ...tenantParams(tenant), ids: ids.slice(i, i + 10_000) },
      );
      for (const r of rows) out.add(r.alert_id);
    }
    return out;
  }
}
