import type { FastifyPluginAsync } from 'fastify';
import type { EventFilter, ReadLayer } from '../../platform/clickhouse/read/index.js';
import { CONTENT_TYPE, negotiateFormat } from '../export/format.js';
import { exportStream } from '../export/stream.js';
import type { ApiMetrics } from '../metrics.js';
import { decodeCursor, encodeCursor } from '../query/cursor.js';
import { toEventView } from '../query/event-view.js';
import {
  cursorParam,
  type EventFilterQuery,
  eventFilterProps,
  eventSchema,
  formatParam,
  limitParam,
} from '../query/params.js';
import { timeRange } from '../query/time.js';
import { principalWith } from '../roles.js';

// Agent history: filtered, newest first, keyset-paged; its count; its export.

export interface EventsRouteOptions {
  read: ReadLayer;
  metrics: ApiMetrics;
  maxPage: number;
}

/** The query's filters as the read layer takes them (times checked and normalised). */
export function toEventFilter(q: EventFilterQuery): EventFilter {
  const { from, to, ...rest } = q;
  const f: EventFilter = { ...timeRange({ from, to }) };
  for (const [k, v] of Object.entries(rest))
    if (v !== undefined && k in eventFilterProps) f[k as keyof EventFilter] = v;
  return f;
}

export const eventsRoutes: FastifyPluginAsync<EventsRouteOptions> = async (app, opts) => {
  const filterQuery = { type: 'object', additionalProperties: false, properties: eventFilterProps } as const;

  app.get<{ Querystring: EventFilterQuery & { limit: number; cursor?: string } }>(
    '/v1/events',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'Agent history: events matching every filter, newest first, keyset-paged',
        description:
          'Order is (occurred_at, event_id) descending and stable; pass next_cursor back with the same filters for the next page. next_cursor is null on the last page.',
        tags: ['history'],
        querystring: {
          ...filterQuery,
          properties: { ...eventFilterProps, limit: limitParam(opts.maxPage), cursor: cursorParam },
        },
        response: {
          200: {
            type: 'object',
            required: ['events', 'next_cursor'],
            properties: {
              events: { type: 'array', items: eventSchema },
              next_cursor: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const { limit, cursor, ...q } = req.query;
      const filter = toEventFilter(q);
      const pos = cursor ? decodeCursor('events', filter as Record<string, unknown>, cursor) : undefined;
      const rows = await opts.read.events.history(
        p.tenant,
        filter,
        limit,
        pos ? { occurred_at: pos.at, event_id: pos.id } : undefined,
      );
      const last = rows.at(-1);
      return {
        events: rows.map(toEventView),
        next_cursor:
          last && rows.length === limit
            ? encodeCursor('events', filter as Record<string, unknown>, {
                at: last.occurred_at,
                id: last.event_id,
              })
            : null,
      };
    },
  );

  app.get<{ Querystring: EventFilterQuery }>(
    '/v1/events/count',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'How many distinct events match the history filters',
        tags: ['history'],
        querystring: filterQuery,
        response: {
          200: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      return { count: await opts.read.events.count(p.tenant, toEventFilter(req.query)) };
    },
  );

  app.get<{ Querystring: EventFilterQuery & { format?: string } }>(
    '/v1/events/export',
    {
      config: { role: 'analyst', produces: [CONTENT_TYPE.ndjson, CONTENT_TYPE.csv] },
      schema: {
        summary: 'Export a history query as NDJSON or CSV, streamed (oldest first)',
        description:
          'Every matching event, in (occurred_at, task_id, seq) order, written as it is read. The X-AgentTrail-Rows trailer gives the count.',
        tags: ['export'],
        querystring: { ...filterQuery, properties: { ...eventFilterProps, format: formatParam } },
      },
    },
    async (req, reply) => {
      const p = principalWith(req, 'analyst');
      const { format: f, ...q } = req.query;
      const format = negotiateFormat(f, req.headers.accept);
      const filter = toEventFilter(q);
      let rows = 0;
      const body = await exportStream(opts.read.events.stream(p.tenant, filter), {
        format,
        onEvent: () => {
          rows++;
        },
      });
      body.on('end', () => opts.metrics.exportedRows.inc({ route: '/v1/events/export' }, rows));
      reply
        .type(CONTENT_TYPE[format])
        .header('content-disposition', `attachment; filename="agenttrail-events.${format}"`)
        .trailer('x-agenttrail-rows', async () => String(rows));
      return reply.send(body);
    },
  );
};
