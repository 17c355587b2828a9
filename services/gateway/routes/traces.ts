import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentEvent } from '../../../schemas/index.js';
import { describeErrors } from '../../../schemas/validate.js';
import { AgentTrailError } from '../../platform/errors.js';
import type { Mapper } from '../../platform/tool-mapping.js';
import {
  acceptContext,
  type IntakeOptions,
  produceAccepted,
  requireOwnTenant,
  takeRate,
  validateAll,
} from '../accept.js';
import { utf8Text } from '../body.js';
import { decodeTraceJson, traceResponseJson } from '../otlp/json.js';
import { OtlpDecodeError, type OtlpSpan } from '../otlp/model.js';
import { decodeTraceRequest, encodeTraceResponse } from '../otlp/protobuf.js';
import { type Rejection, spansToEvents } from '../otlp/spans-to-events.js';
import type { TaskSeqs } from '../otlp/task-seqs.js';
import { errorBody } from './schemas.js';

// POST /v1/traces — OTLP/HTTP traces (protobuf or JSON, optionally gzip), what an OpenTelemetry
// SDK's or collector's `otlphttp` exporter sends. GenAI spans become AgentTrail events
// (otlp/spans-to-events.ts) and go through the same intake as /v1/events (accept.ts): same key,
// tenant binding, rate limit, schema, redaction, limits, and 200 only after Kafka acknowledged.
//
// OTLP's own rule for spans the receiver cannot take is partial success: 200 with
// `partial_success { rejected_spans, error_message }`. Each rejected span is counted by reason in
// agenttrail_otlp_spans_total and named in error_message; spans that are not agent spans (HTTP,
// LLM calls) are counted as ignored. What the answer accepts is all-or-nothing: either every
// converted event is in Kafka, or the answer is an error (503, retried by exporters) and no span
// of the request counts as received.

export interface TracesRouteOptions extends IntakeOptions {
  mapper: Mapper;
  seqs: TaskSeqs;
  /** Refuse the whole request (422) when any span is rejected, instead of OTLP partial success. */
  rejectWhole?: boolean;
}

export const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** Rejected spans named in error_message; beyond it, counts only (the message stays readable). */
const MAX_NAMED = 20;

function decodeError(err: unknown): AgentTrailError {
  const why = err instanceof OtlpDecodeError || err instanceof SyntaxError ? err.message : String(err);
  return new AgentTrailError('AT_ERR_BODY_MALFORMED', `not an OTLP ExportTraceServiceRequest: ${why}`);
}

/** The body as sent: gzip undone, inflated size bounded by the same body limit (a zip bomb is a 413). */
function inflate(req: FastifyRequest, body: Buffer, maxBytes: number): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return body;
  if (encoding !== 'gzip') {
    throw new AgentTrailError(
      'AT_ERR_BODY_MALFORMED',
      `Content-Encoding '${encoding}' is not supported; send gzip or none`,
    );
  }
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new AgentTrailError('AT_ERR_BODY_TOO_LARGE', `the body inflates to more than ${maxBytes} bytes`);
    }
    throw new AgentTrailError('AT_ERR_BODY_MALFORMED', `the gzip body is corrupt: ${(err as Error).message}`);
  }
}

function rejectionMessage(rejected: readonly Rejection[]): string {
  if (rejected.length === 0) return '';
  const counts = new Map<string, number>();
  for (const r of rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  const summary = [...counts].map(([reason, n]) => `${reason} ${n}`).join(', ');
  const named = rejected
    .slice(0, MAX_NAMED)
    .map((r) => `span ${r.spanId || '(no id)'}: ${r.reason}: ${r.message}`);
  const more = rejected.length > MAX_NAMED ? `; and ${rejected.length - MAX_NAMED} more` : '';
  return `${rejected.length} span(s) rejected (${summary}): ${named.join('; ')}${more}`;
}

export const tracesRoutes: FastifyPluginAsync<TracesRouteOptions> = async (app: FastifyInstance, opts) => {
  const ctx = acceptContext(opts);
  app.removeAllContentTypeParsers();
  const parse =
    (decode: (body: Buffer) => OtlpSpan[]) =>
    (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      try {
        const raw = inflate(req, body, opts.maxBodyBytes);
        try {
          done(null, decode(raw));
        } catch (err) {
          done(decodeError(err));
        }
      } catch (err) {
        done(err as Error);
      }
    };
  const limits = { parseAs: 'buffer' as const, bodyLimit: opts.maxBodyBytes };
  app.addContentTypeParser(PROTOBUF, limits, parse(decodeTraceRequest));
  app.addContentTypeParser(
    JSON_TYPE,
    limits,
    parse((raw) => decodeTraceJson(JSON.parse(utf8Text(raw)))),
  );

  app.post(
    '/v1/traces',
    {
      schema: {
        summary: 'Submit OpenTelemetry traces (OTLP/HTTP)',
        description:
          'An OTLP ExportTraceServiceRequest as protobuf (`application/x-protobuf`) or JSON (`application/json`), ' +
          'optionally `Content-Encoding: gzip`. `execute_tool` spans become actions; spans with `agenttrail.task.intent` ' +
          'declare tasks. Spans that cannot become an event are counted in `partial_success` with their reasons. ' +
          '200 is sent only after Kafka acknowledged every event.',
        response: {
          400: errorBody,
          401: errorBody,
          413: errorBody,
          415: errorBody,
          429: errorBody,
          503: errorBody,
        },
      },
      bodyLimit: opts.maxBodyBytes,
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      const spans = req.body as OtlpSpan[] | undefined;
      if (spans === undefined || spans === null) {
        throw new AgentTrailError(
          'AT_ERR_BODY_MALFORMED',
          `the body is empty; send an OTLP request as ${PROTOBUF} or ${JSON_TYPE}`,
        );
      }
      const principal = req.principal!;
      const batchDone = opts.metrics.batchSeconds.startTimer({ stage: 'gateway' });
      const converted = spansToEvents(spans, {
        tenant: principal.tenant,
        seqs: opts.seqs,
        mapper: opts.mapper,
      });
      const n = converted.events.length;
      req.eventCount = n;
      opts.metrics.received.inc({ stage: 'gateway' }, n);
      if (n > opts.maxBatchEvents) {
        throw new AgentTrailError(
          'AT_ERR_BODY_TOO_LARGE',
          `${n} events in one request; the limit is ${opts.maxBatchEvents}`,
        );
      }
      requireOwnTenant(converted.events, principal);

      // A span is taken whole or not at all: one invalid event (of a declaration and its end) rejects its span.
      const rejected = [...converted.rejected];
      const checks = validateAll(converted.events);
      const badSpans = new Set<string>();
      checks.forEach((c, i) => {
        if (c.ok) return;
        const spanId = converted.spanIds[i]!;
        badSpans.add(spanId);
        rejected.push({ spanId, reason: 'invalid_event', message: describeErrors(c.errors) });
      });
      const valid: AgentEvent[] = [];
      const acceptedSpans = new Set<string>();
      checks.forEach((c, i) => {
        const spanId = converted.spanIds[i]!;
        if (!c.ok || badSpans.has(spanId)) return;
        valid.push(c.event);
        acceptedSpans.add(spanId);
      });
      if (opts.rejectWhole && rejected.length > 0) {
        // Strict mode: the request is all-or-nothing as on /v1/events (OTLP exporters do not
        // retry a 4xx, so the whole export is dropped at the client: only for collectors that
        // log and fix, not for production agents).
        for (const r of rejected) opts.metrics.otlpSpans.inc({ result: 'rejected', reason: r.reason });
        throw new AgentTrailError(
          'AT_ERR_EVENT_INVALID',
          `${rejectionMessage(rejected)}; nothing was accepted (GATEWAY_OTLP_PARTIAL_SUCCESS=false)`,
          {
            details: {
              results: rejected.map((r) => ({ span_id: r.spanId, reason: r.reason, message: r.message })),
            },
          },
        );
      }
      if (valid.length > 0) {
        takeRate(opts.buckets, principal, valid.length);
        await produceAccepted(valid, ctx);
      }
      batchDone();
      const spansMetric = opts.metrics.otlpSpans;
      spansMetric.inc({ result: 'accepted', reason: 'ok' }, acceptedSpans.size);
      if (converted.ignored > 0)
        spansMetric.inc({ result: 'ignored', reason: 'not_agent_span' }, converted.ignored);
      for (const r of rejected) spansMetric.inc({ result: 'rejected', reason: r.reason });
      if (rejected.length > 0) {
        opts.metrics.dropped.inc({ stage: 'gateway', reason: 'AT_ERR_EVENT_INVALID' }, rejected.length);
        req.log.warn(
          { rejected: rejected.length, first: rejected.slice(0, MAX_NAMED) },
          'OTLP spans rejected',
        );
      }
      const message = rejectionMessage(rejected);
      reply.code(200);
      if (req.headers['content-type']?.startsWith(PROTOBUF)) {
        reply.type(PROTOBUF);
        return Buffer.from(encodeTraceResponse(rejected.length, message));
      }
      reply.type(JSON_TYPE);
      return traceResponseJson(rejected.length, message);
    },
  );
};
