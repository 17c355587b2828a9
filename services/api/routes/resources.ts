import type { FastifyPluginAsync } from 'fastify';
import type { ReadLayer, TouchedRow } from '../../platform/clickhouse/read/index.js';
import { isoTime } from '../query/event-view.js';
import { timeRange as timeRangeProps } from '../query/params.js';
import { timeRange } from '../query/time.js';
import { principalWith } from '../roles.js';

// Who touched a resource (or an egress destination): actions matching a glob, across tasks and
// agents, grouped by agent and then task.

export function groupByAgent(rows: readonly TouchedRow[]) {
  const agents = new Map<string, { agent_id: string; actions: number; tasks: unknown[] }>();
  for (const r of rows) {
    const a = agents.get(r.agent_id) ?? { agent_id: r.agent_id, actions: 0, tasks: [] };
    agents.set(r.agent_id, a);
    a.actions += Number(r.actions);
    a.tasks.push({
      task_id: r.task_id,
      actions: Number(r.actions),
      values: r.values,
      operations: r.operations,
      first_at: isoTime(r.first_at),
      last_at: isoTime(r.last_at),
    });
  }
  return [...agents.values()];
}

export const resourcesRoutes: FastifyPluginAsync<{ read: ReadLayer }> = async (app, opts) => {
  app.get<{ Querystring: { glob: string; field: 'resource' | 'destination'; from?: string; to?: string } }>(
    '/v1/resources',
    {
      config: { role: 'analyst' },
      schema: {
        summary: 'Who touched a resource or destination (glob) in a time range, by agent and task',
        tags: ['history'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['glob'],
          properties: {
            glob: {
              type: 'string',
              minLength: 1,
              maxLength: 512,
              description: 'Glob over the field (`*` within a segment, `**` across), e.g. `s3://payroll/**`',
            },
            field: { type: 'string', enum: ['resource', 'destination'], default: 'resource' },
            ...timeRangeProps,
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              field: { type: 'string' },
              glob: { type: 'string' },
              agents: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    agent_id: { type: 'string' },
                    actions: { type: 'integer' },
                    tasks: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          task_id: { type: 'string' },
                          actions: { type: 'integer' },
                          values: { type: 'array', items: { type: 'string' } },
                          operations: { type: 'array', items: { type: 'string' } },
                          first_at: { type: ['string', 'null'] },
                          last_at: { type: ['string', 'null'] },
                        },
                      },
                    },
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
      const { glob, field, from, to } = req.query;
      const rows = await opts.read.events.touched(p.tenant, field, glob, timeRange({ from, to }));
      return { field, glob, agents: groupByAgent(rows) };
    },
  );
};
