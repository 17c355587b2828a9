import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { AgentTrailError } from '../../platform/errors.js';
import type { KeyStore } from '../keys.js';
import { authenticate } from '../plugins/auth.js';

// /metrics takes the scraper's own token (GATEWAY_METRICS_TOKEN) when one is configured: a
// Prometheus credential should not be able to submit events, and a collector key should not
// read gateway-wide figures. Without a token, any valid collector key may scrape (local stack).

export interface MetricsRouteOptions {
  registry: Registry;
  keys: KeyStore;
  token?: string;
}

function tokenMatches(req: FastifyRequest, token: string): boolean {
  const presented = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, opts) => {
  app.get('/metrics', async (req, reply) => {
    if (opts.token) {
      if (!tokenMatches(req, opts.token)) {
        throw new AgentTrailError(
          'AT_ERR_AUTH_INVALID',
          'send the metrics token as Authorization: Bearer <token>',
        );
      }
    } else {
      authenticate(req, opts.keys);
    }
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
};
