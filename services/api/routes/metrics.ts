import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

// /metrics takes the scraper's own token (API_METRICS_TOKEN) when one is configured, else an
// admin key: request figures span tenants, so an analyst of one tenant does not read them.
export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      config: { role: 'admin', metricsToken: true, produces: ['text/plain'] },
      schema: {
        summary: 'Prometheus metrics (the metrics token, or an admin API key)',
        tags: ['service'],
      },
    },
    async (_req, reply) => {
      reply.header('content-type', opts.registry.contentType);
      return opts.registry.metrics();
    },
  );
};
