import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

// Every route the API serves, as registered (onRoute): the OpenAPI document is generated from
// it, and the authorization matrix test walks it, so a new route is documented and tested for
// access without anyone remembering to.

export interface RouteEntry {
  method: string;
  url: string;
  schema?: FastifySchema;
  config: { role?: string; public?: boolean; produces?: string[]; browserPage?: unknown };
}

const tables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Start recording; call on the root instance before registering routes. */
export function recordRouteTable(app: FastifyInstance): RouteEntry[] {
  const table: RouteEntry[] = [];
  tables.set(app, table);
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      // fastify adds HEAD for every GET: the same route, not a second one to document.
      if (m === 'HEAD' && methods.length === 1 && route.exposeHeadRoute === undefined) continue;
      table.push({
        method: m.toUpperCase(),
        url: route.url,
        schema: route.schema as RouteEntry['schema'],
        config: (route.config ?? {}) as RouteEntry['config'],
      });
    }
  });
  return table;
}

/** The routes of an app built by buildApi (HEAD twins left out). */
export function routeTableOf(app: FastifyInstance): readonly RouteEntry[] {
  const t = tables.get(app);
  if (!t) throw new Error('routeTableOf: the app was not built with recordRouteTable');
  return t.filter((r) => r.method !== 'HEAD');
}

declare module 'fastify' {
  // OpenAPI's words for an operation, on the route schema (docs.ts reads them).
  interface FastifySchema {
    summary?: string;
    description?: string;
    tags?: string[];
  }
  interface FastifyContextConfig {
    /** Media types of a 200 other than JSON (exports, metrics), for the OpenAPI document. */
    produces?: string[];
  }
}
