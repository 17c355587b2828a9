import { describeView } from './describe.js';
import { clean, table } from './table.js';

// Human renderings of the list answers (history, alerts, alert groups, one alert, resources):
// the API's JSON in, text out. `--json` prints the answer itself instead.

type Row = Record<string, unknown>;
const agentOf = (e: Row) => (e.agent as { id?: string } | undefined)?.id ?? '';

export function renderEvents(events: readonly Row[]): string {
  if (events.length === 0) return 'no events match\n';
  return table(
    ['OCCURRED_AT', 'AGENT', 'TASK', 'SEQ', 'TYPE', 'WHAT'],
    events.map((e) => [e.occurred_at, agentOf(e), e.task_id, e.seq, e.type, describeView(e)]),
  );
}

export function renderAlerts(alerts: readonly Row[]): string {
  if (alerts.length === 0) return 'no alerts match\n';
  return table(
    ['CREATED_AT', 'ALERT_ID', 'SEVERITY', 'STATUS', 'RULE', 'AGENT', 'TASK', 'TITLE'],
    alerts.map((a) => [
      a.created_at,
      a.alert_id,
      a.severity,
      a.status,
      a.rule_id,
      a.agent_id,
      a.task_id,
      a.title,
    ]),
  );
}

export function renderGroups(groups: readonly Row[]): string {
  if (groups.length === 0) return 'no alerts match\n';
  return table(
    ['DEDUP_KEY', 'ALERTS', 'SEVERITY', 'STATUSES', 'FIRST_AT', 'LAST_AT', 'LATEST_ALERT'],
    groups.map((g) => [
      g.dedup_key,
      g.alerts,
      g.severity,
      (g.statuses as string[]).join(','),
      g.first_at,
      g.last_at,
      g.latest_alert_id,
    ]),
  );
}

export function renderAlert(answer: {
  alert: Row;
  status_history: Row[];
  evidence: Row[];
  deliveries: Row[];
}): string {
  const a = answer.alert;
  const lines = [
    `ALERT  ${a.alert_id}  ${a.rule_id} ${a.severity}  ${a.status}`,
    `  title      ${a.title}`,
    `  task       ${a.task_id} (agent ${a.agent_id}, tenant ${a.tenant})`,
    `  raised     ${a.created_at} (occurred ${a.occurred_at})`,
    `  dedup key  ${a.dedup_key}`,
  ];
  if (a.scope_element) lines.push(`  left       ${a.scope_element}`);
  if (typeof a.link === 'string') lines.push(`  timeline   ${a.link}`);
  for (const l of String(a.explanation ?? '').split('\n')) lines.push(`  ${l}`);
  const out = [...lines.map(clean), ''];
  out.push(`status history (${answer.status_history.length}):`);
  for (const s of answer.status_history) {
    const by = s.by as { key_id?: string; role?: string } | undefined;
    out.push(clean(`  ${s.at}  ${s.type}  by key ${by?.key_id} (${by?.role}): ${s.reason}`));
  }
  out.push('', `evidence (${answer.evidence.length}):`);
  out.push(answer.evidence.length ? renderEvents(answer.evidence).trimEnd() : '  (none stored)');
  out.push('', `deliveries (${answer.deliveries.length}):`);
  if (answer.deliveries.length)
    out.push(
      table(
        ['AT', 'DESTINATION', 'ATTEMPT', 'STATUS', 'HTTP', 'ERROR'],
        answer.deliveries.map((d) => [d.at, d.destination, d.attempt, d.status, d.http_status, d.error]),
      ).trimEnd(),
    );
  return `${out.join('\n')}\n`;
}

export function renderResources(r: {
  field: string;
  glob: string;
  agents: Array<{ agent_id: string; actions: number; tasks: Row[] }>;
}): string {
  if (r.agents.length === 0) return clean(`nothing touched ${r.field} ${r.glob}\n`);
  const rows = r.agents.flatMap((a) =>
    a.tasks.map((t) => [
      a.agent_id,
      t.task_id,
      t.actions,
      (t.operations as string[]).join(','),
      t.first_at,
      t.last_at,
      (t.values as string[]).join(' '),
    ]),
  );
  const total = r.agents.reduce((n, a) => n + a.actions, 0);
  return (
    `${clean(`${total} actions on ${r.field} ${r.glob} by ${r.agents.length} agents`)}\n` +
    table(['AGENT', 'TASK', 'ACTIONS', 'OPERATIONS', 'FIRST_AT', 'LAST_AT', r.field.toUpperCase()], rows)
  );
}
