import type { ClickHouseClient } from '@clickhouse/client';
import { createReadLayer } from '../../services/platform/clickhouse/read/index.js';

// What the pipeline's projections hold for a set of tasks, through the read layer:
// stored events (raw rows, and distinct event ids: equal when each event is stored exactly
// once) and alerts. The demo and the end-to-end test poll these.

export interface EventCounts {
  /** Rows as stored, redelivered copies included. */
  raw: number;
  /** Distinct event ids. */
  distinct: number;
}

const read = (ch: ClickHouseClient, database: string) =>
  createReadLayer({ client: ch, database, caller: 'pipeline-observe' });

export function storedEventCounts(
  ch: ClickHouseClient,
  database: string,
  tenant: string,
  taskIds: readonly string[],
): Promise<EventCounts> {
  return read(ch, database).events.storedCounts(tenant, taskIds);
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
  const rows = await read(ch, database).alerts.forTasks(tenant, taskIds);
  return rows.map(({ alert_id, rule_id, severity, task_id }) => ({ alert_id, rule_id, severity, task_id }));
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
