import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AgentEvent } from '../../../schemas/index.js';
import { validateEvent } from '../../../schemas/validate.js';
import type { StoredEventRow } from '../../platform/clickhouse/event-row.js';
import type { ReadLayer, StoredAlertRow } from '../../platform/clickhouse/read/index.js';
import { AgentTrailError } from '../../platform/errors.js';
import { consoleTaskLink } from '../../platform/timeline-link.js';
import { CONTENT_TYPE, negotiateFormat } from '../export/format.js';
import { exportStream } from '../export/stream.js';
import type { ApiMetrics } from '../metrics.js';
import { type EventView, isoTime, toEventView } from '../query/event-view.js';
import { formatParam, idParam } from '../query/params.js';
import { principalWith } from '../roles.js';
import { assembleTimeline, type TimelineAlertInput } from '../timeline/assemble.js';
import { ChainVerifier } from '../timeline/chain.js';

// The task timeline (the incident responder's reconstruction) and its export. The route only
// reads; timeline/assemble.ts builds the answer. The task's tenant is the key's: `?tenant=` (as
// in the detector's alert link) may repeat it, and any other value is the same 404 as a task
// that does not exist, so a key learns nothing of other tenants.

const tenantQuery = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: "Optional; must be the key's own tenant (the alert link carries it)",
} as const;
const taskParams = {
  type: 'object',
  required: ['task'],
  properties: { task: idParam('Task id') },
} as const;
const obj = { type: 'object', additionalProperties: true } as const;
const arr = { type: 'array', items: obj } as const;

function notFound(task: string): AgentTrailError {
  return new AgentTrailError('AT_ERR_NOT_FOUND', `no task ${task} for this key's tenant`);
}

function checkTenant(own: string, asked: string | undefined, task: string): void {
  if (asked !== undefined && asked !== own) throw notFound(task);
}

/**
 * The console's page of the task a link names (plugins/browser-link.ts): the link's own task and
 * tenant, nothing else (any other parameter is dropped; a repeated tenant is not carried).
 */
function consolePageOf(req: FastifyRequest): string {
  const { task } = req.params as { task: string };
  const { tenant } = req.query as { tenant?: unknown };
  return consoleTaskLink('', typeof tenant === 'string' ? tenant : undefined, task);
}

function validated(rows: readonly StoredEventRow[]): AgentEvent[] {
  return rows.flatMap((r) => {
    const v = validateEvent(toEventView(r));
    return v.ok ? [v.value] : [];
  });
}

/** Alerts' current status (firing, acknowledged, resolved): the row's, or the status history's. */
export async function currentStatuses(
  read: ReadLayer,
  tenant: string,
  alerts: readonly StoredAlertRow[],
): Promise<Map<string, string>> {
  if (alerts.length === 0) return new Map();
  return read.alertStatus.statusOf(
    tenant,
    alerts.map((a) => a.alert_id),
  );
}

const RISK_TABLE_MISSING =
  'risk signals unavailable: the risk_signals table does not exist yet (migration 0009, which every pipeline stage applies at start)';

/** JSON text of an alert's risk signals (migrations/0008) as the array; none when empty or unreadable. */
function riskSignals(text: string | undefined): unknown[] | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export const alertView = (a: StoredAlertRow): TimelineAlertInput & Record<string, unknown> => {
  const { risk_signals, risk_score, ...rest } = a;
  const signals = riskSignals(risk_signals);
  return {
    ...rest,
    occurred_at: isoTime(a.occurred_at)!,
    created_at: isoTime(a.created_at)!,
    // The task's baseline signals that rode on the alert (detector baselines/risk.ts), as context.
    ...(signals ? { risk_signals: signals, risk_score: risk_score ?? null } : {}),
  };
};

export const tasksRoutes: FastifyPluginAsync<{
  read: ReadLayer;
  metrics: ApiMetrics;
  maxTimelineEvents: number;
}> = async (app, opts) => {
  const { read } = opts;

  app.get<{ Params: { task: string }; Querystring: { tenant?: string } }>(
    '/v1/tasks/:task',
    {
      // The alert link: a browser with no key is sent to the console's page of the task.
      config: { role: 'analyst', browserPage: consolePageOf },
      schema: {
        summary:
          'Task timeline: intent, scope, approvals, credentials, every event judged, risk signals, delegation, chain verdict',
        description:
          'The declared intent and scope and who declared it; scope changes with their approvals; credentials issued, used and revoked; approvals (who, when, context, which action used them); every event in seq order, each action marked in scope or with the rules it broke and the scope elements it left; the alerts; the task’s risk signals (first uses, outliers: context, not findings) with its score, each also on the action it was observed on; the delegation tree (parent and children, each child scope checked as a subset); and the hash chain verified here, with a verdict sentence. This is the page the alert link opens; a browser following it without a key (Accept preferring text/html) is redirected (303) to the console’s page of the task, /console/#/tasks/{task}?tenant={tenant}.',
        tags: ['timeline'],
        params: taskParams,
        querystring: { type: 'object', additionalProperties: false, properties: { tenant: tenantQuery } },
        response: {
          200: {
            type: 'object',
            additionalProperties: true,
            required: ['tenant', 'task_id', 'events', 'chain'],
            properties: {
              tenant: { type: 'string' },
              task_id: { type: 'string' },
              declared: { anyOf: [obj, { type: 'null' }] },
              scope_changes: arr,
              credentials: arr,
              approvals: arr,
              events: arr,
              alerts: arr,
              risk: obj,
              delegation: obj,
              chain: obj,
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const task = req.params.task;
      checkTenant(p.tenant, req.query.tenant, task);
      // Streamed: the chain is verified over every event, the first `max` are kept in full.
      const chain = new ChainVerifier(task);
      const events: Array<{ event: EventView; valid: AgentEvent | undefined }> = [];
      let total = 0;
      const readEvents = async () => {
        for await (const r of read.events.streamTask(p.tenant, task)) {
          total++;
          const event = toEventView(r);
          if (event.unreadable) chain.addUnreadable();
          else chain.add(event);
          if (events.length < opts.maxTimelineEvents) {
            const v = validateEvent(event);
            events.push({ event, valid: v.ok ? v.value : undefined });
          }
        }
      };
      const [, alerts, childIds, signals] = await Promise.all([
        readEvents(),
        read.alerts.forTasks(p.tenant, [task]),
        read.events.children(p.tenant, task),
        read.riskSignals.forTask(p.tenant, task),
      ]);
      if (total === 0 && alerts.length === 0) throw notFound(task);
      if (!signals) req.log.warn({ table: 'risk_signals' }, RISK_TABLE_MISSING);
      const parentId = events.find((e) => typeof e.event.parent_task_id === 'string')?.event.parent_task_id as
        | string
        | undefined;
      const delegated = events.flatMap((e) =>
        e.valid?.type === 'task.delegated' ? [e.valid.data.child_task_id] : [],
      );
      const related = [...new Set([...(parentId ? [parentId] : []), ...childIds, ...delegated])];
      const [scopeEvents, current] = await Promise.all([
        read.events.scopeEvents(p.tenant, related),
        currentStatuses(read, p.tenant, alerts),
      ]);
      const scopeRows = validated(scopeEvents);
      const of = (id: string) => ({ taskId: id, scopeEvents: scopeRows.filter((e) => e.task_id === id) });
      return assembleTimeline({
        tenant: p.tenant,
        taskId: task,
        events,
        unreadable: events.filter((e) => e.event.unreadable === true).length,
        chain: chain.verdict(),
        eventsTotal: total,
        alerts: alerts.map((a) => ({ ...alertView(a), status: current.get(a.alert_id) ?? a.status })),
        ...(signals
          ? {
              riskSignals: signals.map((x) => ({
                event_id: x.event_id,
                rule_id: x.rule_id,
                score: x.score,
                occurred_at: isoTime(x.occurred_at)!,
                explanation: x.explanation,
              })),
            }
          : { riskUnavailable: RISK_TABLE_MISSING }),
        ...(parentId ? { parent: of(parentId) } : {}),
        children: [...new Set([...childIds, ...delegated])].map(of),
      });
    },
  );

  app.get<{ Params: { task: string }; Querystring: { tenant?: string; format?: string } }>(
    '/v1/tasks/:task/export',
    {
      config: { role: 'analyst', produces: [CONTENT_TYPE.ndjson, CONTENT_TYPE.csv] },
      schema: {
        summary: "Export a task's events (seq order) as NDJSON or CSV, streamed, with the chain verdict",
        description:
          'The hash chain is verified as the events stream. The verdict is the last line (NDJSON: {"chain_verdict": {…}}; CSV: a line starting with "# chain_verdict:") and the HTTP trailers X-AgentTrail-Chain-Status and X-AgentTrail-Chain-Verdict.',
        tags: ['export'],
        params: taskParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { tenant: tenantQuery, format: formatParam },
        },
      },
    },
    async (req, reply) => {
      const p = principalWith(req, 'analyst');
      const task = req.params.task;
      checkTenant(p.tenant, req.query.tenant, task);
      // Known before the body starts: a 404 cannot follow a 200 already sent.
      if ((await read.events.count(p.tenant, { task })) === 0) throw notFound(task);
      const format = negotiateFormat(req.query.format, req.headers.accept);
      const chain = new ChainVerifier(task);
      let rows = 0;
      const verdict = () => chain.verdict();
      const body = await exportStream(read.events.streamTask(p.tenant, task), {
        format,
        onEvent: (e) => {
          rows++;
          if (e.unreadable) chain.addUnreadable();
          else chain.add(e);
        },
        trailer: () => {
          const v = verdict();
          return format === 'csv'
            ? `# chain_verdict: ${v.status}: ${v.sentence}\r\n`
            : `${JSON.stringify({ chain_verdict: v })}\n`;
        },
      });
      body.on('end', () => opts.metrics.exportedRows.inc({ route: '/v1/tasks/:task/export' }, rows));
      const safe = task.replace(/[^A-Za-z0-9._-]/g, '_');
      reply
        .type(CONTENT_TYPE[format])
        .header('content-disposition', `attachment; filename="agenttrail-task-${safe}.${format}"`)
        .trailer('x-agenttrail-chain-status', async () => verdict().status)
        .trailer('x-agenttrail-chain-verdict', async () => verdict().sentence)
        .trailer('x-agenttrail-rows', async () => String(rows));
      return reply.send(body);
    },
  );

  // The link format of pages sent before the alerter used the canonical one
  // (`<base>/tasks/<tenant>/<task>`): sends the browser there; the redirect itself reads nothing.
  app.get<{ Params: { tenant: string; task: string } }>(
    '/tasks/:tenant/:task',
    {
      config: { public: true },
      schema: {
        summary: 'Redirect of the alerter fallback link to /v1/tasks/{task}?tenant={tenant}',
        tags: ['timeline'],
        params: {
          type: 'object',
          required: ['tenant', 'task'],
          properties: { tenant: tenantQuery, task: idParam('Task id') },
        },
      },
    },
    async (req, reply) => {
      const { tenant, task } = req.params;
      return reply.redirect(
        `/v1/tasks/${encodeURIComponent(task)}?tenant=${encodeURIComponent(tenant)}`,
        308,
      );
    },
  );
};
