import { createHash } from 'node:crypto';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import pino from 'pino';
import { TaskStream } from '../scenarios/builder.js';
import { prng } from '../scenarios/prng.js';
import { Alert } from '../schemas/alert.js';
import type { AgentEvent } from '../schemas/index.js';
import { toAlertRow } from '../services/detector/io/alert-rows.js';
import { toLine, toRow } from '../services/ingester/rows.js';
import { createEventWriter } from '../services/ingester/writer.js';

// The query benchmark's data set: `events` tenants' worth of realistic task streams (declared
// scope, a credential, actions, approvals, scope changes, delegations, revocation, end), built by
// scenarios/builder.ts with real hash chains, turned into rows exactly as the ingester does
// (rows.ts toRow/toLine) and inserted through its writer (writer.ts) in large batches; alerts as
// the detector stores them (toAlertRow), their evidence the ids of real actions.
//
// Everything is derived from a seeded PRNG, so the plan (which tenants, agents, tasks, lengths,
// times) is recomputed in milliseconds on a run that reuses an already seeded database.

export interface SeedParams {
  events: number;
  tenants: number;
  agentsPerTenant: number;
  seed: number;
}

export interface PlannedTask {
  tenant: string;
  taskId: string;
  agent: string;
  startMs: number;
  length: number;
  parent?: string;
  alert: boolean;
}

export interface Plan {
  params: SeedParams;
  tasks: PlannedTask[];
  /** Tenants by size, largest first, with their event counts. */
  tenants: Array<{ tenant: string; events: number }>;
  /** The month the events span (history windows, exports). */
  fromMs: number;
  toMs: number;
}

export const MONTH_START = Date.parse('2026-11-01T00:00:00.000Z');
const SPAN_MS = 28 * 86_400_000;
export const TEAMS = ['finance', 'hr', 'eng', 'sales', 'ops', 'legal'];
const DESTINATIONS = ['api.partner.example', 'hooks.slack.com', 'api.github.com', 'paste.evil.example'];
const RULES = [
  { id: 'AT-EGR-001', severity: 'high' as const, element: 'scope.egress' },
  { id: 'AT-SCP-002', severity: 'medium' as const, element: 'scope.allow' },
  { id: 'AT-APR-001', severity: 'critical' as const, element: 'scope.approvals' },
];

export const tenantName = (i: number) => `t${String(i).padStart(4, '0')}`;

/**
 * Tenant sizes follow a Zipf-like law (weight 1/(i+1)^0.8): with 1,000 tenants the largest holds
 * ~6 % of all events and the smallest a few thousand, as a shared SaaS deployment would.
 * Task lengths are log-uniform over 10–600 events (mean ~145), 1 task in 50 delegates a child.
 */
export function plan(params: SeedParams): Plan {
  const rnd = prng(params.seed);
  const weights = Array.from({ length: params.tenants }, (_, i) => 1 / (i + 1) ** 0.8);
  const total = weights.reduce((a, b) => a + b, 0);
  const tasks: PlannedTask[] = [];
  const tenants: Plan['tenants'] = [];
  for (let t = 0; t < params.tenants; t++) {
    const tenant = tenantName(t);
    const budget = Math.max(20, Math.round((params.events * weights[t]!) / total));
    let used = 0;
    let n = 0;
    while (used < budget) {
      const length = Math.min(
        budget - used,
        Math.max(5, Math.round(Math.exp(Math.log(10) + rnd() * Math.log(60)))),
      );
      const agent = `agent-${Math.floor(rnd() * params.agentsPerTenant)}`;
      const task: PlannedTask = {
        tenant,
        taskId: `${tenant}-task-${n++}`,
        agent,
        startMs: MONTH_START + Math.floor(rnd() * (SPAN_MS - 86_400_000)),
        length,
        alert: rnd() < 0.1,
      };
      // A delegation: the previous task of this tenant is the parent (it names the child).
      const prev = tasks[tasks.length - 1];
      if (prev && prev.tenant === tenant && !prev.parent && rnd() < 0.02) task.parent = prev.taskId;
      tasks.push(task);
      used += length;
    }
    tenants.push({ tenant, events: used });
  }
  // Which tasks a parent delegates to, found before any event is built.
  return { params, tasks, tenants, fromMs: MONTH_START, toMs: MONTH_START + SPAN_MS };
}

/** One task's events, the way a collector and the gateway produce them; and its alert. */
export function buildTask(
  t: PlannedTask,
  children: readonly string[],
  index: number,
): { events: AgentEvent[]; alert?: Alert } {
  const rnd = prng(index * 7919 + 17);
  const s = new TaskStream({
    tenant: t.tenant,
    taskId: t.taskId,
    agentId: t.agent,
    workloadIdentity: `spiffe://${t.tenant}/${t.agent}`,
    ...(t.parent ? { parentTaskId: t.parent } : {}),
    startMs: t.startMs,
    trusted: true,
  });
  const team = TEAMS[index % TEAMS.length]!;
  const bucket = `s3://${t.tenant}-data/${team}`;
  const scope = {
    allow: [
      { tools: ['s3.*', 'db.query'], operations: ['read' as const], resources: [`${bucket}/**`] },
      { tools: ['http.post'], operations: ['transfer' as const] },
    ],
    egress: ['api.partner.example', 'hooks.slack.com'],
    data_classes: ['internal'],
    approvals: { required_for: [{ operations: ['write' as const] }], approvers: ['bob@example.com'] },
  };
  s.declared(scope, {
    intent: `${team} reconciliation ${index}`,
    by: t.parent ? `task:${t.parent}` : 'alice@example.com',
  });
  const cred = `${t.taskId}-cred`;
  s.credential(cred);
  // Fixed events: declared, credential, revoke, ended, one delegation per child.
  let left = t.length - 4 - children.length;
  let evidence: string | undefined;
  let approvals = 0;
  const dt = () => ({ dtMs: 200 + Math.floor(rnd() * 2800) });
  while (left > 0) {
    const r = rnd();
    if (r < 0.02 && left >= 3) {
      // An approval asked, granted, then used by a write.
      const ap = `${t.taskId}-ap-${approvals++}`;
      s.event(
        'approval.requested',
        { approval_id: ap, target: { tool: 's3.put', operation: 'write' }, context: 'fix a record' },
        dt(),
      );
      s.grant(ap, 'bob@example.com', { tool: 's3.put', operation: 'write' }, {}, dt());
      s.action(
        {
          tool: 's3.put',
          operation: 'write',
          resource: `${bucket}/records/${Math.floor(rnd() * 5000)}.json`,
          approval_id: ap,
          credential_id: cred,
        },
        dt(),
      );
      left -= 3;
    } else if (r < 0.12) {
      const dest = DESTINATIONS[Math.floor(rnd() * DESTINATIONS.length)]!;
      s.action(
        {
          tool: 'http.post',
          operation: 'transfer',
          destination: `https://${dest}/v1/upload`,
          credential_id: cred,
          data_classes: rnd() < 0.3 ? ['pii'] : ['internal'],
        },
        dt(),
      );
      left--;
    } else {
      s.action(
        {
          tool: rnd() < 0.7 ? 's3.get' : 'db.query',
          operation: 'read',
          resource: `${bucket}/reports/2026-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}/${Math.floor(rnd() * 2000)}.csv`,
          credential_id: cred,
          data_classes: ['internal'],
        },
        dt(),
      );
      left--;
    }
    if (t.alert && !evidence && left <= t.length / 2) evidence = s.lastEventId;
  }
  for (const c of children)
    s.delegate(c, { allow: [{ tools: ['s3.get'], resources: [`${bucket}/**`] }] }, dt());
  s.revoke(cred, dt());
  s.ended('completed', dt());
  const events = s.events();
  if (!t.alert) return { events };
  const ev = events.find((e) => e.event_id === evidence) ?? events[events.length - 1]!;
  const rule = RULES[index % RULES.length]!;
  const occurredMs = Date.parse(ev.occurred_at);
  const alert = Alert.parse({
    alert_id: createHash('md5').update(`${rule.id}|${t.tenant}|${t.taskId}|${ev.event_id}`).digest('hex'),
    rule_id: rule.id,
    severity: rule.severity,
    title: 'Action outside the declared scope',
    explanation: `The task declared ${rule.element}; event ${ev.event_id} left it.`,
    tenant: t.tenant,
    task_id: t.taskId,
    agent_id: t.agent,
    workload_identity: `spiffe://${t.tenant}/${t.agent}`,
    evidence: [ev.event_id],
    scope_element: rule.element,
    dedup_key: `${rule.id}|${t.tenant}|${t.taskId}`,
    occurred_at: ev.occurred_at,
    created_at: new Date(occurredMs + 150).toISOString(),
  });
  return { events, alert };
}

export function childrenOf(p: Plan): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of p.tasks) if (t.parent) out.set(t.parent, [...(out.get(t.parent) ?? []), t.taskId]);
  return out;
}

/**
 * Insert the plan's events (and alerts) into `db`: batches of `batchRows` through the ingester's
 * writer, the next batch built while ClickHouse parses the current one. Progress on stderr.
 */
export async function seed(
  ch: ClickHouseClient,
  eventsClient: ClickHouseClient,
  db: string,
  p: Plan,
  opts: { batchRows?: number; progress: (msg: string) => void },
): Promise<{ events: number; alerts: number; seconds: number }> {
  const batchRows = opts.batchRows ?? 200_000;
  const log = pino({ level: 'silent' });
  const writer = createEventWriter(eventsClient, { retry: { initialMs: 200, maxMs: 5_000 }, log });
  const control = { signal: new AbortController().signal, onWait: async () => {} };
  const children = childrenOf(p);
  const total = p.tasks.reduce((a, t) => a + t.length, 0);
  const tag = createHash('sha256').update(JSON.stringify(p.params)).digest('hex').slice(0, 12);
  const t0 = performance.now();
  let lines: string[] = [];
  let alerts: Alert[] = [];
  let inserted = 0;
  let batch = 0;
  let inflight: Promise<void> | undefined;
  let lastReport = 0;
  const flush = async () => {
    const mine = lines;
    const token = `bench-query-${tag}-${batch++}`;
    lines = [];
    await inflight;
    inflight = writer.insert(mine, token, control).then((refused) => {
      if (refused.length) throw new Error(`ClickHouse refused ${refused.length} seed rows`);
      inserted += mine.length;
      const s = (performance.now() - t0) / 1000;
      if (s - lastReport >= 5 || inserted === total) {
        lastReport = s;
        const rate = inserted / s;
        opts.progress(
          `seeded ${inserted.toLocaleString()} / ${total.toLocaleString()} events, ${Math.round(rate).toLocaleString()} rows/s, ETA ${Math.round((total - inserted) / rate)} s`,
        );
      }
    });
  };
  for (const [i, t] of p.tasks.entries()) {
    const built = buildTask(t, children.get(t.taskId) ?? [], i);
    // received_at comes from the event (the gateway's); the Kafka timestamp is only a fallback.
    for (const e of built.events) lines.push(toLine(toRow(e, Date.parse(e.received_at ?? e.occurred_at))));
    if (built.alert) alerts.push(built.alert);
    if (lines.length >= batchRows) await flush();
    // Let the in-flight insert's body stream while the next batch is built.
    if (i % 8 === 0) await yieldLoop();
  }
  if (lines.length) await flush();
  await inflight;
  for (let i = 0; i < alerts.length; i += 50_000) {
    await ch.insert({
      table: `${db}.alerts`,
      values: alerts.slice(i, i + 50_000).map(toAlertRow),
      format: 'JSONEachRow',
    });
  }
  const n = alerts.length;
  alerts = [];
  return { events: inserted, alerts: n, seconds: (performance.now() - t0) / 1000 };
}
