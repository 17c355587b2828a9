import type { FastifyPluginAsync } from 'fastify';

// Unauthenticated by design: orchestrators probe these without credentials, and they reveal
// nothing beyond up/ready.
const status = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
} as const;

export interface Readiness {
  /** Whether ClickHouse answers; the reason when not (never ClickHouse's own text). */
  check(): Promise<{ ok: boolean; reason?: string }>;
}

export const healthRoutes: FastifyPluginAsync<{ ready: Readiness }> = async (app, opts) => {
  const config = { public: true };
  app.get(
    '/healthz',
    { config, schema: { summary: 'Liveness', tags: ['service'], response: { 200: status } } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    {
      config,
      schema: {
        summary: 'Readiness: ClickHouse answers',
        tags: ['service'],
        response: { 200: status, 503: status },
      },
    },
    async (_req, reply) => {
      const r = await opts.ready.check();
      if (!r.ok) reply.code(503);
      return r;
    },
  );
};
