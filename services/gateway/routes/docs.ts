import type { FastifyPluginAsync } from 'fastify';
import { httpErrorList } from '../../platform/errors.js';
import { OPENAPI_SECURITY } from '../../platform/http/openapi-security.js';
import { eventsRouteSchema } from './events.js';

// The OpenAPI document, built from the same schema objects the routes are registered with, and
// a small self-contained HTML page rendering it at /docs (no CDN, no extra package).

export function buildOpenApi(maxBatchEvents: number): Record<string, unknown> {
  const events = eventsRouteSchema(maxBatchEvents);
  const responses = Object.fromEntries(
    Object.entries(events.response).map(([status, schema]) => [
      status,
      {
        description: STATUS_TEXT[status] ?? status,
        content: { 'application/json': { schema } },
        ...(status === '429' || status === '503'
          ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } } }
          : {}),
      },
    ]),
  );
  const ok = { type: 'object', properties: { ok: { type: 'boolean' }, reason: { type: 'string' } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'AgentTrail gateway',
      version: '1',
      description:
        'Authenticated ingest of AgentTrail v1 events. Every endpoint except /healthz and /readyz needs a ' +
        'collector API key (Authorization: Bearer <key>, X-API-Key, or HTTP Basic with the key as password). ' +
        'Secrets in event data are redacted before anything is stored; see the error catalogue below.\n\n' +
        httpErrorList(),
    },
    ...OPENAPI_SECURITY,
    paths: {
      '/v1/events': {
        post: {
          summary: events.summary,
          description: events.description,
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: events.body },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One v1 event (JSON object) per line' },
              },
            },
          },
          responses,
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness',
          security: [],
          responses: { 200: { description: 'up', content: { 'application/json': { schema: ok } } } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness (Kafka producer connected)',
          security: [],
          responses: {
            200: { description: 'ready', content: { 'application/json': { schema: ok } } },
            503: { description: 'not ready', content: { 'application/json': { schema: ok } } },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (metrics token, or a collector key when no token is configured)',
          responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
      '/docs': { get: { summary: 'This document as HTML', responses: { 200: { description: 'HTML' } } } },
    },
  };
}

const STATUS_TEXT: Record<string, string> = {
  '202': 'Accepted: every event is on Kafka (acks=all)',
  '400': 'Malformed body (names the problem; NDJSON line number)',
  '401': 'Missing or unknown API key',
  '403': 'An event names another tenant than the key’s; nothing accepted',
  '413': 'Body larger than the byte limit, or more events than the batch limit',
  '415': 'Unsupported content type',
  '422': 'Invalid event(s): errors per index and field path; nothing accepted',
  '429': 'Per-key rate limit (events/s); see Retry-After',
  '503': 'Kafka did not acknowledge; nothing accepted; retry after Retry-After',
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function renderHtml(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<
    string,
    Record<
      string,
      { summary?: string; description?: string; responses?: Record<string, { description?: string }> }
    >
  >;
  const info = doc.info as { title: string; description: string };
  const ops = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(
        ([method, op]) =>
          `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2><p>${escapeHtml(op.summary ?? '')}</p>` +
          (op.description ? `<p>${escapeHtml(op.description)}</p>` : '') +
          `<ul>${Object.entries(op.responses ?? {})
            .map(([s, r]) => `<li><b>${s}</b> ${escapeHtml(r.description ?? '')}</li>`)
            .join('')}</ul></section>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}section{border-top:1px solid #ddd}</style>
</head><body><h1>${escapeHtml(info.title)}</h1><pre style="white-space:pre-wrap">${escapeHtml(info.description)}</pre>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1, with the full v1 event JSON Schema).</p>
${ops}</body></html>`;
}

export const docsRoutes: FastifyPluginAsync<{ maxBatchEvents: number }> = async (app, opts) => {
  const doc = buildOpenApi(opts.maxBatchEvents);
  const json = JSON.stringify(doc);
  const html = renderHtml(doc);
  app.get('/openapi.json', async (_req, reply) => {
    reply.type('application/json');
    return json;
  });
  app.get('/docs', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return html;
  });
};
