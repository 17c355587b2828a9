import type { ClickHouseClient } from '@clickhouse/client';

// What the pipeline's projections hold for a set of tasks, read with bound parameters only:
// stored events (raw rows, and distinct event ids: equal when each event is stored exactly
// once) and alerts. The demo and the end-to-end test poll these.

export interface EventCounts {
  /** Rows as stored, redelivered copies included. */
  raw: number;
  /** Distinct event ids. */
  distinct: number;
}

export async function storedEventCounts(
  ch: ClickHouseClient,
  database: string,
  tenant: string,
  taskIds: readonly string[],
): Promise<EventCounts> {
  const rs = await ch.query({
    query: `SELECT count() AS raw, uniqExact(event_id) AS distinct FROM {db:Identifier}.events
            WHERE tenant = {tenant:String} AND task_id IN {tasks:Array(String)}`,
    query_params: { db: database, tenant, tasks: taskIds },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ raw: string; distinct: string }>();
  return { raw: Number(row?.raw ?? 0), distinct: Number(row?.distinct ?? 0) };
}

export interface StoredAlert {
  alert_id: string;
  rule_id: string;
  severity: string;
  task_id: string;
}

export async function storedAlerts(
  ch: ClickHouseClient,
  database: string,
  tenant: string,
  taskIds: readonly string[],
): Promise<StoredAlert[]> {
  const rs = await ch.query({
    query: `SELECT alert_id, rule_id, severity, task_id FROM {db:Identifier}.alerts FINAL
            WHERE tenant = {tenant:String} AND task_id IN {tasks:Array(String)}
            ORDER BY created_at, rule_id`,
    query_params: { db: database, tenant, tasks: taskIds },
    format: 'JSONEachRow',
  });
  return rs.json<StoredAlert>();
}

/** Poll `probe` until `done` holds for its value or the deadline passes; returns the last value. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<{ value: T; met: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, met: true };
    if (Date.now() > deadline) return { value, met: false };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The facts of one webhook page (body format: services/alerter/formats/webhook.ts). */
export interface PageFacts {
  ruleId: string;
  taskId: string;
  severity: string;
  title: string;
  alertIds: string[];
  signatureOk: boolean;
  at: number;
}

interface WebhookBody {
  group?: { alert_ids?: string[] };
  alert?: { rule_id?: string; task_id?: string; severity?: string; title?: string };
}

export function pageFacts(r: { json: unknown; at: number; signature?: { ok: boolean } }): PageFacts {
  const body = (r.json ?? {}) as WebhookBody;
  return {
    ruleId: body.alert?.rule_id ?? '?',
    taskId: body.alert?.task_id ?? '?',
    severity: body.alert?.severity ?? '?',
    title: body.alert?.title ?? '',
    alertIds: body.group?.alert_ids ?? [],
    signatureOk: r.signature?.ok === true,
    at: r.at,
  };
}
