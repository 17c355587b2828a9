import {
  type AlertCurrentStatus,
  type AlertStatusRecord,
  type AlertStatusType,
  currentAlertStatus,
} from '../../../../schemas/alert-status.js';
import { fromClickHouseTime } from '../event-row.js';
import type { DeliveryAttemptRow } from './deliveries.js';
import { type ReadContext, readRows, TENANT_CONDITION, tenantParams } from './run.js';

// The `alert_status` table (migrations/0006), read: an alert's acknowledge/resolve history and
// its current status. Rows are append-only and collapse by status_id, so reads use FINAL.

interface StatusRow {
  status_id: string;
  type: AlertStatusType;
  alert_id: string;
  tenant: string;
  dedup_key: string;
  by_key_id: string;
  by_role: string;
  reason: string;
  at: string;
}

export interface AlertStatusView {
  alert_id: string;
  status: AlertCurrentStatus;
  /** The status history, oldest first. */
  history: AlertStatusRecord[];
}

const COLUMNS = 'status_id, type, alert_id, tenant, dedup_key, by_key_id, by_role, reason, at';

function toRecord(r: StatusRow): AlertStatusRecord {
  return {
    type: r.type,
    status_id: r.status_id,
    alert_id: r.alert_id,
    tenant: r.tenant,
    dedup_key: r.dedup_key,
    by: { key_id: r.by_key_id, role: r.by_role as AlertStatusRecord['by']['role'] },
    reason: r.reason,
    at: fromClickHouseTime(r.at),
  };
}

export class AlertStatusRepository {
  constructor(private readonly ctx: ReadContext) {}

  /** Status records of one alert, oldest first (empty for an alert of another tenant). */
  async history(tenant: string, alertId: string): Promise<AlertStatusRecord[]> {
    const rows = await readRows<StatusRow>(
      this.ctx,
      `SELECT ${COLUMNS} FROM {db:Identifier}.alert_status FINAL
       WHERE ${TENANT_CONDITION()} AND alert_id = {id:String} ORDER BY at, type`,
      { ...tenantParams(tenant), id: alertId },
    );
    return rows.map(toRecord);
  }

  /** One record by its id, if stored for this tenant. */
  async get(tenant: string, statusId: string): Promise<AlertStatusRecord | undefined> {
    const rows = await readRows<StatusRow>(
      this.ctx,
      `SELECT ${COLUMNS} FROM {db:Identifier}.alert_status FINAL
       WHERE ${TENANT_CONDITION()} AND status_id = {sid:String} LIMIT 1`,
      { ...tenantParams(tenant), sid: statusId },
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Current status and history of an alert; undefined when the tenant has no such alert (another
   * tenant's alert is answered exactly like a missing one).
   */
  async current(tenant: string, alertId: string): Promise<AlertStatusView | undefined> {
    const [alert] = await readRows<{ status: string }>(
      this.ctx,
      `SELECT status FROM {db:Identifier}.alerts FINAL
       WHERE ${TENANT_CONDITION()} AND alert_id = {id:String} LIMIT 1`,
      { ...tenantParams(tenant), id: alertId },
    );
    if (!alert) return undefined;
    const history = await this.history(tenant, alertId);
    return { alert_id: alertId, status: currentAlertStatus(alert.status, history), history };
  }

  /** Current status of many alerts at once (a list page); alerts the tenant lacks are absent. */
  async statusOf(tenant: string, alertIds: readonly string[]): Promise<Map<string, AlertCurrentStatus>> {
    const rows = await readRows<{ alert_id: string; status: AlertCurrentStatus }>(
      this.ctx,
      `SELECT a.alert_id AS alert_id,
         multiIf(a.status = 'resolved' OR s.resolved = 1, 'resolved', s.acknowledged = 1, 'acknowledged', 'firing') AS status
       FROM (SELECT alert_id, status FROM {db:Identifier}.alerts FINAL
             WHERE ${TENANT_CONDITION()} AND alert_id IN {ids:Array(String)}) AS a
       LEFT JOIN (SELECT alert_id,
                    toUInt8(countIf(type = 'alert.resolved') > 0) AS resolved,
                    toUInt8(countIf(type = 'alert.acknowledged') > 0) AS acknowledged
                  FROM {db:Identifier}.alert_status
                  WHERE ${TENANT_CONDITION()} AND alert_id IN {ids:Array(String)}
                  GROUP BY alert_id) AS s USING (alert_id)`,
      { ...tenantParams(tenant), ids: alertIds },
    );
    return new Map(rows.map((r) => [r.alert_id, r.status]));
  }

  /**
   * Delivery attempts of an alert's status follow-ups (the alerter logs them under the status_id,
   * see services/alerter/deliver.ts), in order; only through records this tenant owns.
   */
  deliveries(tenant: string, alertId: string): Promise<DeliveryAttemptRow[]> {
    return readRows(
      this.ctx,
      `SELECT alert_id, destination, attempt, status, http_status, latency_ms, error, at
       FROM {db:Identifier}.alert_deliveries FINAL
       WHERE alert_id IN (SELECT status_id FROM {db:Identifier}.alert_status
                          WHERE ${TENANT_CONDITION()} AND alert_id = {id:String})
       ORDER BY at, destination, attempt`,
      { ...tenantParams(tenant), id: alertId },
    );
  }
}
