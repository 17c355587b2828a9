import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  ALERT_STATUS_REASON_MAX,
  AlertCurrentStatus,
  AlertStatusRecord,
} from '../../../schemas/alert-status.js';
import type { AlertStatusWriter } from '../alert-status/writer.js';
import { principalWith } from '../roles.js';

// POST /v1/alerts/:id/acknowledge and /v1/alerts/:id/resolve, body { reason }: the responder
// role; the change is on Kafka (so the alerter follows up on PagerDuty, Slack and webhooks) and
// stored before the 200. A repeat answers the first change unchanged; acknowledging a resolved
// alert is a 409; another tenant's alert is a 404 like a missing one.

export interface AlertStatusRouteOptions {
  writer: AlertStatusWriter;
}

/** The record's JSON Schema from the zod contract (no $schema line: it is embedded). */
function recordJsonSchema(): Record<string, unknown> {
  const { $schema: _drop, ...schema } = z.toJSONSchema(AlertStatusRecord, {
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return schema;
}

const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'Stable error code (AT_ERR_*), see README "Errors"' },
    message: { type: 'string' },
  },
} as const;

function schemaFor(action: 'acknowledge' | 'resolve') {
  const verb = action === 'acknowledge' ? 'Acknowledge' : 'Resolve';
  return {
    summary: `${verb} an alert`,
    description:
      `${verb} the alert, saying why. Appends an \`alert.${action === 'acknowledge' ? 'acknowledged' : 'resolved'}\` ` +
      'record to its status history (who: the key and its role; why: the reason) and produces it to Kafka, ' +
      `so the alerter sends PagerDuty \`${action}\` for its dedup key and a Slack and webhook follow-up; ` +
      'answered after both. Idempotent: a repeat answers the first record and sends nothing. ' +
      (action === 'acknowledge' ? 'A resolved alert cannot be acknowledged (409). ' : '') +
      'Needs the responder role.',
    tags: ['alerts'],
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1, maxLength: 128, description: 'The alert_id' } },
    },
    body: {
      type: 'object',
      required: ['reason'],
      additionalProperties: false,
      properties: {
        reason: {
          type: 'string',
          minLength: 1,
          maxLength: ALERT_STATUS_REASON_MAX,
          description: 'Why, in the responder’s words (kept in the history and sent with the follow-up)',
        },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['alert_id', 'dedup_key', 'status', 'record'],
        properties: {
          alert_id: { type: 'string' },
          dedup_key: { type: 'string' },
          status: { type: 'string', enum: AlertCurrentStatus.options, description: 'The alert’s status now' },
          record: { ...recordJsonSchema(), description: 'The status record (for a repeat, the first one)' },
        },
      },
      400: errorBody,
      401: errorBody,
      403: errorBody,
      404: errorBody,
      409: errorBody,
      503: errorBody,
    },
  };
}

export const alertStatusRoutes: FastifyPluginAsync<AlertStatusRouteOptions> = async (app, opts) => {
  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post<{ Params: { id: string }; Body: { reason: string } }>(
      `/v1/alerts/:id/${action}`,
      { schema: schemaFor(action), config: { role: 'responder' } },
      async (req) => {
        // Also checked here, not only by the auth plugin's route role: this route writes.
        const principal = principalWith(req, 'responder');
        return opts.writer[action](principal, req.params.id, req.body.reason);
      },
    );
  }
};
