import type { EventView } from '../query/event-view.js';

// Export encodings, pure: NDJSON (one rebuilt event per line, lossless) and CSV (one flat row
// per event, for spreadsheets). Recorded values are written by agents, so a CSV cell that a
// spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with `'` (OWASP CSV
// injection guidance); the full event stays in the `data` column as JSON.

export type ExportFormat = 'ndjson' | 'csv';

export const CONTENT_TYPE: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** ?format= wins; else the Accept header; NDJSON by default. */
export function negotiateFormat(format: string | undefined, accept: string | undefined): ExportFormat {
  if (format === 'csv' || format === 'ndjson') return format;
  const a = (accept ?? '').toLowerCase();
  if (a.includes('text/csv')) return 'csv';
  return 'ndjson';
}

export const CSV_COLUMNS = [
  'event_id',
  'tenant',
  'task_id',
  'parent_task_id',
  'seq',
  'type',
  'occurred_at',
  'received_at',
  'agent_id',
  'workload_identity',
  'tool',
  'operation',
  'resource',
  'destination',
  'outcome',
  'data_classes',
  'credential_id',
  'approval_id',
  'prev_hash',
  'hash',
  'data',
] as const;

export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export function csvLine(e: EventView): string {
  const agent = (e.agent ?? {}) as Record<string, unknown>;
  const data = (e.data ?? {}) as Record<string, unknown>;
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    event_id: e.event_id,
    tenant: e.tenant,
    task_id: e.task_id,
    parent_task_id: e.parent_task_id,
    seq: e.seq,
    type: e.type,
    occurred_at: e.occurred_at,
    received_at: e.received_at,
    agent_id: agent.id,
    workload_identity: agent.workload_identity,
    tool: data.tool,
    operation: data.operation,
    resource: data.resource,
    destination: data.destination,
    outcome: data.outcome,
    data_classes: Array.isArray(data.data_classes) ? data.data_classes.join(';') : undefined,
    credential_id: data.credential_id,
    approval_id: data.approval_id,
    prev_hash: e.prev_hash,
    hash: e.hash,
    data: e.data,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(values[c])).join(',')}\r\n`;
}

export const ndjsonLine = (e: EventView): string => `${JSON.stringify(e)}\n`;
