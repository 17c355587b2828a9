import type { FastifyPluginAsync } from 'fastify';
import type { EventSink } from '../sink.js';

// Unauthenticated by design: orchestrators probe these without credentials, and they reveal
// nothing beyond up/ready.
const status = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
} as const;

export const healthRoutes: FastifyPluginAsync<{ sink: EventSink }> = async (app, opts) => {
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { response: { 200: status, 503: status } } }, async (_req, reply) => {
    if (opts.sink.ready()) return { ok: true };
    reply.code(503);
    return { ok: false, reason: 'the Kafka producer is not connected or its last write failed' };
  });
};
