import { type ReadContext, readRows, TENANT_CONDITION, type TenantArg, tenantParams } from './run.js';

// The `alert_deliveries` table, read. It has no tenant column: a tenant's reads go through the
// alerts it owns, so a key never sees another tenant's deliveries.

export interface DeliveryAttemptRow {
  alert_id: string;
  destination: string;
  attempt: number;
  status: string;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
  at: string;
}

export interface DeliverySummaryRow {
  alert_id: string;
  destination: string;
  attempts: number;
  is_final: number | boolean;
}

const OWNED = `alert_id IN (SELECT alert_id FROM {db:Identifier}.alerts WHERE ${TENANT_CONDITION()})`;

export class DeliveriesRepository {
  constructor(private readonly ctx: ReadContext) {}

  /** Every attempt to page one alert, in order. */
  forAlert(tenant: string, alertId: string): Promise<DeliveryAttemptRow[]> {
    return readRows(
      this.ctx,
      `SELECT alert_id, destination, attempt, status, http_status, latency_ms, error, at
       FROM {db:Identifier}.alert_deliveries FINAL
       WHERE alert_id = {id:String} AND ${OWNED} ORDER BY at, destination, attempt`,
      { ...tenantParams(tenant), id: alertId },
    );
  }

  /** Per (alert, destination): attempts so far and whether one was final (the alerter's memory). */
  summary(
    tenant: TenantArg,
    alertIds: readonly string[],
    finalStatuses: readonly string[],
  ): Promise<DeliverySummaryRow[]> {
    // No FINAL needed: any final row at all is enough, and max() ignores duplicates.
    return readRows(
      this.ctx,
      `SELECT alert_id, destination, max(attempt) AS attempts, countIf(status IN {final:Array(String)}) > 0 AS is_final
       FROM {db:Identifier}.alert_deliveries
       WHERE alert_id IN {ids:Array(String)} AND ({all_tenants:UInt8} = 1 OR ${OWNED})
       GROUP BY alert_id, destination`,
      { ...tenantParams(tenant), ids: alertIds, final: finalStatuses },
    );
  }
}
