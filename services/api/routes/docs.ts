import type { FastifyPluginAsync } from 'fastify';
import { httpErrorList } from '../../platform/errors.js';
import { OPENAPI_SECURITY } from '../../platform/http/openapi-security.js';
import type { RouteEntry } from '../route-table.js';

// The OpenAPI document, generated from the route table (the schemas the routes are registered
// with), and a small self-contained HTML page rendering it at /docs (no CDN, no extra package).
// Both are public: they describe the API and hold nothing of any tenant.

const STATUS_TEXT: Record<string, string> = {
  '200': 'OK',
  '303': 'A browser without a key (Accept preferring text/html): to the console’s page of it',
  '308': 'Permanent redirect to the canonical URL',
  '400': 'Invalid parameter (names it); nothing was read',
  '401': 'Missing or unknown API key (collector keys are never valid here)',
  '403': 'The key’s role is too low for this route',
  '404': 'No such task or alert for the key’s tenant (another tenant’s look the same)',
  '503': 'ClickHouse did not answer; retry',
};

const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

function operation(r: RouteEntry): Record<string, unknown> {
  const s = r.schema ?? {};
  const parameters: unknown[] = [];
  for (const [where, schema] of [
    ['path', s.params],
    ['query', s.querystring],
  ] as const) {
    const obj = schema as { properties?: Record<string, { description?: string }>; required?: string[] };
    for (const [name, p] of Object.entries(obj?.properties ?? {})) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || (obj.required ?? []).includes(name),
        ...(p.description ? { description: p.description } : {}),
        schema: p,
      });
    }
  }
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries((s.response ?? {}) as Record<string, unknown>)) {
    responses[status] = {
      description: STATUS_TEXT[status] ?? status,
      content: { 'application/json': { schema } },
    };
  }
  if (r.config.produces) {
    responses['200'] = {
      description: STATUS_TEXT['200'],
      content: Object.fromEntries(r.config.produces.map((t) => [t, {}])),
    };
  }
  if (r.config.browserPage) responses['303'] ??= { description: STATUS_TEXT['303'] };
  if (!r.config.public) {
    for (const st of ['400', '401', '403', '503']) responses[st] ??= { description: STATUS_TEXT[st] };
    if (r.url.includes(':')) responses['404'] ??= { description: STATUS_TEXT['404'] };
  }
  return {
    summary: s.summary ?? '',
    ...(s.description ? { description: s.description } : {}),
    ...(s.tags ? { tags: s.tags } : {}),
    ...(r.config.public ? { security: [] } : { 'x-agenttrail-role': r.config.role ?? 'analyst' }),
    parameters,
    responses,
  };
}

export function buildOpenApi(routes: readonly RouteEntry[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.url);
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation(r) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'AgentTrail query API',
      version: '1',
      description:
        'Read the audit record: agent histories, task timelines with the hash chain verified, resource ' +
        'search, alerts, exports. Every endpoint except health and docs needs an API key (`agenttrail keys ' +
        'create --tenant T --role analyst|responder|admin`) as Authorization: Bearer <key>, X-API-Key, or HTTP ' +
        'Basic with the key as password. A key reads its own tenant only: another tenant’s task or alert is ' +
        'a 404, as if it did not exist. x-agenttrail-role on each operation is the least role it needs.\n\n' +
        httpErrorList(),
    },
    ...OPENAPI_SECURITY,
    paths,
  };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface Op {
  summary?: string;
  description?: string;
  parameters?: Array<{ name: string; in: string; description?: string }>;
  responses?: Record<string, { description?: string }>;
  'x-agenttrail-role'?: string;
}

export function renderHtml(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Op>>;
  const info = doc.info as { title: string; description: string };
  const ops = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(
        ([method, op]) =>
          `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2><p>${escapeHtml(op.summary ?? '')}` +
          (op['x-agenttrail-role']
            ? ` <i>(role: ${escapeHtml(op['x-agenttrail-role'])})</i>`
            : ' <i>(no key)</i>') +
          '</p>' +
          (op.description ? `<p>${escapeHtml(op.description)}</p>` : '') +
          (op.parameters?.length
            ? `<ul>${op.parameters
                .map(
                  (p) =>
                    `<li><code>${escapeHtml(p.name)}</code> (${p.in}) ${escapeHtml(p.description ?? '')}</li>`,
                )
                .join('')}</ul>`
            : '') +
          `<p>${Object.entries(op.responses ?? {})
            .map(([s, r]) => `<b>${s}</b> ${escapeHtml(r.description ?? '')}`)
            .join(' · ')}</p></section>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}section{border-top:1px solid #ddd}</style>
</head><body><h1>${escapeHtml(info.title)}</h1><pre style="white-space:pre-wrap">${escapeHtml(info.description)}</pre>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${ops}</body></html>`;
}

export const docsRoutes: FastifyPluginAsync<{ routes: readonly RouteEntry[] }> = async (app, opts) => {
  // Built on first request: by then every route is registered.
  let cached: { json: string; html: string } | undefined;
  const docs = () => {
    if (!cached) {
      const doc = buildOpenApi(opts.routes);
      cached = { json: JSON.stringify(doc), html: renderHtml(doc) };
    }
    return cached;
  };
  const config = { public: true, produces: ['application/json'] };
  app.get(
    '/openapi.json',
    { config, schema: { summary: 'This document (OpenAPI 3.1)', tags: ['service'] } },
    async (_req, reply) => {
      reply.type('application/json');
      return docs().json;
    },
  );
  app.get(
    '/docs',
    {
      config: { public: true, produces: ['text/html'] },
      schema: { summary: 'This document as HTML', tags: ['service'] },
    },
    async (_req, reply) => {
      reply.type('text/html; charset=utf-8');
      return docs().html;
    },
  );
};
