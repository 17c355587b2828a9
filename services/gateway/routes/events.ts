import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AgentEvent } from '../../../schemas/index.js';
import { AgentTrailError } from '../../platform/errors.js';
import {
  acceptContext,
  type IntakeOptions,
  produceAccepted,
  requireOwnTenant,
  takeRate,
  validateAll,
} from '../accept.js';
import { type ParsedBody, parseJsonBody, parseNdjsonBody, utf8Text } from '../body.js';
import { acceptedBody, errorBody, eventJsonSchema } from './schemas.js';

// POST /v1/events — one event, a JSON array, or NDJSON.
//
// A batch is ALL-OR-NOTHING: every event is validated first; if any is invalid the answer is
// 422 with an error list per event index and nothing is produced. Partial acceptance would make
// the collector reconcile which events of a batch exist, and a half-stored task shows up as seq
// gaps; all-or-nothing lets a collector simply fix and resend the whole batch (event_id makes
// a resend idempotent downstream). Same for 403 (another tenant) and 503 (Kafka): nothing in
// the request is accepted. 202 comes only after Kafka acknowledged every event (acks=all).

declare module 'fastify' {
  interface FastifyRequest {
    /** Events in the request, once parsed: lets the error handler count drops by reason. */
    eventCount: number;
  }
}

export type EventsRouteOptions = IntakeOptions;

export const EVENTS_CONTENT_TYPES = ['application/json', 'application/x-ndjson', 'application/ndjson'];

export function eventsRouteSchema(maxBatchEvents: number) {
  const event = eventJsonSchema();
  return {
    summary: 'Submit agent events',
    description:
      'One event (JSON object), a JSON array of events, or NDJSON (`application/x-ndjson`, one event per line), ' +
      `at most ${maxBatchEvents} events. All-or-nothing: if any event is invalid the answer is 422 with ` +
      'errors per event index and nothing is stored. 202 is sent only after Kafka acknowledged every event.',
    body: { oneOf: [event, { type: 'array', items: event, minItems: 1, maxItems: maxBatchEvents }] },
    response: {
      202: acceptedBody,
      400: errorBody,
      401: errorBody,
      403: errorBody,
      413: errorBody,
      415: errorBody,
      422: errorBody,
      429: errorBody,
      503: errorBody,
    },
  };
}

export const eventsRoutes: FastifyPluginAsync<EventsRouteOptions> = async (app: FastifyInstance, opts) => {
  const ctx = acceptContext(opts);
  // Our own parsers (this context only): errors that name the problem, and NDJSON. Fastify's
  // defaults (JSON, text/plain) are removed so any other type is a clean 415.
  app.removeAllContentTypeParsers();
  const parser =
    (parse: (text: string) => ParsedBody) =>
    (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        done(null, parse(utf8Text(body as Buffer)));
      } catch (err) {
        done(err as Error);
      }
    };
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes },
    parser(parseJsonBody),
  );
  for (const type of ['application/x-ndjson', 'application/ndjson']) {
    app.addContentTypeParser(
      type,
      { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes },
      parser(parseNdjsonBody),
    );
  }

  app.post(
    '/v1/events',
    {
      schema: eventsRouteSchema(opts.maxBatchEvents),
      bodyLimit: opts.maxBodyBytes,
      // The body schema documents the contract; validation is zod's (validateEvent), which
      // reports every problem per event index and field path.
      validatorCompiler: () => () => true,
    },
    async (req, reply) => {
      // No Content-Type and no body: no parser ran.
      if (req.body === undefined || req.body === null) {
        throw new AgentTrailError(
          'AT_ERR_BODY_MALFORMED',
          'the body is empty; send an event, a JSON array or NDJSON with a Content-Type of application/json or application/x-ndjson',
        );
      }
      const { items } = req.body as ParsedBody;
      const principal = req.principal!;
      const n = items.length;
      req.eventCount = n;
      opts.metrics.received.inc({ stage: 'gateway' }, n);
      // A request is the gateway's batch: parsed body to Kafka's acknowledgement, accepted ones only.
      const batchDone = opts.metrics.batchSeconds.startTimer({ stage: 'gateway' });

      if (n > opts.maxBatchEvents) {
        throw new AgentTrailError(
          'AT_ERR_BODY_TOO_LARGE',
          `${n} events in one request; the limit is ${opts.maxBatchEvents}`,
        );
      }
      if (n === 0) throw new AgentTrailError('AT_ERR_BODY_MALFORMED', 'the array holds no events');

      takeRate(opts.buckets, principal, n);
      requireOwnTenant(items, principal);

      const checks = validateAll(items);
      const invalid = checks.filter((c) => !c.ok).length;
      if (invalid > 0) {
        const results = checks.map((c, index) => {
          if (c.ok) return { index, status: 'valid', event_id: c.event.event_id };
          const eventId = (items[index] as { event_id?: unknown } | null)?.event_id;
          return {
            index,
            status: 'rejected',
            ...(typeof eventId === 'string' ? { event_id: eventId.slice(0, 128) } : {}),
            errors: c.errors,
          };
        });
        throw new AgentTrailError(
          'AT_ERR_EVENT_INVALID',
          `${invalid} of ${n} event(s) are invalid; nothing was accepted (fix them and resend the batch)`,
          { details: { results } },
        );
      }

      const valid = checks.map((c) => (c as { event: AgentEvent }).event);
      const secrets = await produceAccepted(valid, ctx);
      batchDone();
      const accepted = valid.map((event, index) => ({
        index,
        status: 'accepted',
        event_id: event.event_id,
        secrets_redacted: secrets[index],
      }));
      reply.code(202);
      return { accepted: n, results: accepted };
    },
  );
};
