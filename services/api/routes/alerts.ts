import type { FastifyPluginAsync } from 'fastify';
import type { AlertFilter, ReadLayer } from '../../platform/clickhouse/read/index.js';
import { AgentTrailError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor } from '../query/cursor.js';
import { isoTime, toEventView } from '../query/event-view.js';
import {
  cursorParam,
  eventSchema,
  idParam,
  limitParam,
  timeRange as timeRangeProps,
} from '../query/params.js';
import { timeRange } from '../query/time.js';
import { principalWith } from '../roles.js';
import { alertView, currentStatuses } from './tasks.js';

// Alerts, read side: list and filter (keyset-paged), one alert with its evidence events and its
// delivery attempts inlined, and alerts grouped by dedup key (what pages once per window).
// Acknowledge and resolve are routes/alert-status.ts.

const alertFilterProps = {
  severity: { type: 'string', enum: ['info', 'low', 'medium', 'high', 'critical'] },
  rule: {
    type: 'string',
    minLength: 1,
    maxLength: 128,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
    description: 'Rule id',
  },
  agent: idParam('Agent id'),
  task: idParam('Task id'),
  status: {
    type: 'string',
    minLength: 1,
    maxLength: 32,
    pattern: '^[a-z_]+$',
    description: 'firing, acknowledged, resolved',
  },
  dedup_key: { type: 'string', minLength: 1, maxLength: 256, description: 'Dedup key, exact' },
  ...timeRangeProps,
} as const;
type AlertQuery = Partial<Record<keyof typeof alertFilterProps, string>>;

const alertSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['alert_id', 'rule_id', 'severity', 'task_id', 'status', 'created_at'],
  properties: { alert_id: { type: 'string' }, rule_id: { type: 'string' }, severity: { type: 'string' } },
} as const;

function toAlertFilter(q: AlertQuery): AlertFilter {
  const { from, to, ...rest } = q;
  return { ...rest, ...timeRange({ from, to }) };
}

export const alertsRoutes: FastifyPluginAsync<{ read: ReadLayer; maxPage: number }> = async (app, opts) => {
  const { read } = opts;

  app.get<{ Querystring: AlertQuery & { limit: number; cursor?: string } }>(
    '/v1/alerts',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'Alerts matching every filter, newest first (created_at, alert_id), keyset-paged',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...alertFilterProps, limit: limitParam(opts.maxPage), cursor: cursorParam },
        },
        response: {
          200: {
            type: 'object',
            required: ['alerts', 'next_cursor'],
            properties: {
              alerts: { type: 'array', items: alertSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const { limit, cursor, ...q } = req.query;
      const filter = toAlertFilter(q);
      const pos = cursor ? decodeCursor('alerts', filter as Record<string, unknown>, cursor) : undefined;
      const rows = await read.alerts.list(
        p.tenant,
        filter,
        limit,
        pos ? { created_at: pos.at, alert_id: pos.id } : undefined,
      );
      const last = rows.at(-1);
      const current = await currentStatuses(read, p.tenant, rows);
      return {
        alerts: rows.map((a) => ({ ...alertView(a), status: current.get(a.alert_id) ?? a.status })),
        next_cursor:
          last && rows.length === limit
            ? encodeCursor('alerts', filter as Record<string, unknown>, {
                at: last.created_at,
                id: last.alert_id,
              })
            : null,
      };
    },
  );

  app.get<{ Querystring: AlertQuery & { limit: number } }>(
    '/v1/alerts/groups',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'Alerts grouped by dedup key: count, worst severity, first and last raised, newest alert',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...alertFilterProps, limit: limitParam(opts.maxPage) },
        },
        response: {
          200: {
            type: 'object',
            required: ['groups'],
            properties: {
              groups: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    dedup_key: { type: 'string' },
                    alerts: { type: 'integer' },
                    severity: { type: 'string' },
                    rules: { type: 'array', items: { type: 'string' } },
                    tasks: { type: 'array', items: { type: 'string' } },
                    statuses: { type: 'array', items: { type: 'string' } },
                    first_at: { type: ['string', 'null'] },
                    last_at: { type: ['string', 'null'] },
                    latest_alert_id: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const { limit, ...q } = req.query;
      const rows = await read.alerts.groups(p.tenant, toAlertFilter(q), limit);
      return {
        groups: rows.map((g) => ({
          ...g,
          alerts: Number(g.alerts),
          first_at: isoTime(g.first_at),
          last_at: isoTime(g.last_at),
        })),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/alerts/:id',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'One alert with its status history, its evidence events inlined and its delivery attempts',
        tags: ['alerts'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'Alert id (32 hex)' } },
        },
        response: {
          200: {
            type: 'object',
            required: ['alert', 'status_history', 'evidence', 'deliveries'],
            properties: {
              alert: alertSchema,
              status_history: { type: 'array', items: { type: 'object', additionalProperties: true } },
              evidence: { type: 'array', items: eventSchema },
              deliveries: { type: 'array', items: { type: 'object', additionalProperties: true } },
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const alert = await read.alerts.get(p.tenant, req.params.id);
      if (!alert)
        throw new AgentTrailError('AT_ERR_NOT_FOUND', `no alert ${req.params.id} for this key's tenant`);
      const [evidence, deliveries, status] = await Promise.all([
        read.events.byIds(p.tenant, alert.evidence),
        read.deliveries.forAlert(p.tenant, alert.alert_id),
        read.alertStatus.current(p.tenant, alert.alert_id),
      ]);
      // Evidence in the alert's own order (the last one triggered it).
      const byId = new Map(evidence.map((r) => [r.event_id, toEventView(r)]));
      return {
        alert: { ...alertView(alert), status: status?.status ?? alert.status },
        // Who acknowledged or resolved it and why, oldest first (routes/alert-status.ts writes it).
        status_history: status?.history ?? [],
        evidence: alert.evidence.flatMap((id) => byId.get(id) ?? []),
        deliveries: deliveries.map((d) => ({ ...d, at: isoTime(d.at) })),
      };
    },
  );
};
