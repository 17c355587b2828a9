import type { FastifyInstance, FastifyRequest } from 'fastify';

// A person's browser following a link from a page (the alert link, `/v1/tasks/<task>?tenant=…`)
// is sent to the console's view of it, where the person signs in; any API client gets the
// route's own answer, the JSON or the auth hook's 401, exactly as before. A browser is told
// apart by what it sends: no key at all (no Authorization, no X-API-Key) and an Accept that
// prefers text/html to JSON. curl (`*/*`), fetch without headers and every API client never
// are. A route opts in with `config: { browserPage }`; the page is built only from the link's
// own values, so the redirect carries nothing the link did not (and reads nothing).

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The console path (on this origin) for a browser with no key; see plugins/browser-link.ts. */
    browserPage?: (req: FastifyRequest) => string;
  }
}

interface Range {
  type: string;
  sub: string;
  q: number;
}

function parseAccept(accept: string): Range[] {
  return accept.split(',').flatMap((part) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, sub] = range.split('/');
    if (!type || !sub) return [];
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    return Number.isFinite(q) ? [{ type, sub, q }] : [];
  });
}

/** The q the Accept header gives a media type: its most specific matching range's (RFC 9110 12.5.1). */
function qualityOf(ranges: readonly Range[], type: string, sub: string): number {
  const exact = ranges.find((r) => r.type === type && r.sub === sub);
  if (exact) return exact.q;
  const typeWild = ranges.find((r) => r.type === type && r.sub === '*');
  if (typeWild) return typeWild.q;
  return ranges.find((r) => r.type === '*' && r.sub === '*')?.q ?? 0;
}

/**
 * Whether an Accept header asks for HTML over JSON: text/html named (not only through a
 * wildcard) with a q above application/json's. A tie is JSON's, the API's own type.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const html = ranges.find((r) => r.type === 'text' && r.sub === 'html')?.q ?? 0;
  return html > 0 && html > qualityOf(ranges, 'application', 'json');
}

const hasKey = (req: FastifyRequest) =>
  req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;

/** Install before the auth hook (plugins/auth.ts): onRequest hooks run in the order added. */
export function installBrowserLinks(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const page = req.routeOptions.config?.browserPage;
    if (!page) return;
    // The same URL answers a browser and an API client differently: caches must keep both.
    reply.header('vary', 'Accept, Authorization');
    if (req.method !== 'GET' || hasKey(req) || !prefersHtml(req.headers.accept)) return;
    return reply.header('cache-control', 'no-store').redirect(page(req), 303);
  });
}
