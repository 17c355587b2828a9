import type { FastifyPluginAsync } from 'fastify';
import type { ReadLayer } from '../../platform/clickhouse/read/index.js';
import { isoTime } from '../query/event-view.js';
import { idParam, timeRange as timeRangeProps } from '../query/params.js';
import { timeRange } from '../query/time.js';
import { principalWith } from '../roles.js';

// Per-agent activity (the console's agent page draws it): the agent's actions and failed actions
// per minute from the materialised view `agent_actions_per_minute` (no scan of the events), and
// the agent's alerts in the same span, to mark where they were raised.

const MAX_MINUTES = 10_080; // a week of active minutes
const MAX_ALERTS = 500;

const minuteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['minute', 'actions', 'failures'],
  properties: {
    minute: { type: 'string', description: 'Start of the minute, ISO-8601 UTC' },
    actions: { type: 'integer' },
    failures: { type: 'integer', description: 'Actions whose outcome was not ok' },
  },
} as const;

const alertMarkSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['alert_id', 'rule_id', 'severity', 'task_id', 'occurred_at'],
  properties: {
    alert_id: { type: 'string' },
    rule_id: { type: 'string' },
    severity: { type: 'string' },
    title: { type: 'string' },
    task_id: { type: 'string' },
    occurred_at: { type: 'string' },
  },
} as const;

export const agentsRoutes: FastifyPluginAsync<{ read: ReadLayer }> = async (app, opts) => {
  const { read } = opts;

  app.get<{ Params: { agent: string }; Querystring: { from?: string; to?: string; minutes: number } }>(
    '/v1/agents/:agent/activity',
    {
      config: { role: 'analyst' },
      schema: {
        summary: "An agent's actions per minute (from the materialised view), its alerts marked",
        description:
          "The agent's minutes that have actions (newest `minutes` of them, returned oldest first), each with its actions and failed actions counted once per event however often it was delivered; `more` says older minutes exist. `alerts`: the agent's alerts that occurred within the minutes returned (newest 500), to mark on them. Minutes starting in [from, to) when given.",
        tags: ['history'],
        params: {
          type: 'object',
          required: ['agent'],
          properties: { agent: idParam('Agent id') },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...timeRangeProps,
            minutes: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_MINUTES,
              default: 1440,
              description: `How many of the latest active minutes (1-${MAX_MINUTES})`,
            },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['tenant', 'agent', 'minutes', 'more', 'alerts'],
            properties: {
              tenant: { type: 'string' },
              agent: { type: 'string' },
              minutes: { type: 'array', items: minuteSchema },
              more: { type: 'boolean' },
              alerts: { type: 'array', items: alertMarkSchema },
            },
          },
        },
      },
    },
    async (req) => {
      const p = principalWith(req, 'analyst');
      const { agent } = req.params;
      const range = timeRange(req.query);
      const rows = await read.activity.perMinute(p.tenant, agent, range, req.query.minutes + 1);
      const more = rows.length > req.query.minutes;
      const minutes = rows
        .slice(0, req.query.minutes)
        .reverse()
        .map((r) => ({
          minute: isoTime(r.minute)!,
          actions: Number(r.actions),
          failures: Number(r.failures),
        }));
      const first = minutes[0];
      const last = minutes.at(-1);
      const alerts =
        first && last
          ? await read.alerts.list(
              p.tenant,
              {
                agent,
                occurred_from: first.minute,
                occurred_to: new Date(Date.parse(last.minute) + 60_000).toISOString(),
              },
              MAX_ALERTS,
            )
          : [];
      return {
        tenant: p.tenant,
        agent,
        minutes,
        more,
        alerts: alerts.map((a) => ({
          alert_id: a.alert_id,
          rule_id: a.rule_id,
          severity: a.severity,
          title: a.title,
          task_id: a.task_id,
          occurred_at: isoTime(a.occurred_at)!,
        })),
      };
    },
  );
};
