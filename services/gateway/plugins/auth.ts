import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AgentTrailError } from '../../platform/errors.js';
import { presentedKey } from '../../platform/keys/presented.js';
import type { KeyStore, Principal } from '../keys.js';

export { presentedKey };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook; null before it ran (declared up front for a stable shape). */
    principal: Principal | null;
  }
}

/** Verify the key, or throw 401. Exposed for routes with their own rule (/metrics). */
export function authenticate(req: FastifyRequest, keys: KeyStore): Principal {
  const key = presentedKey(req);
  if (!key) {
    throw new AgentTrailError('AT_ERR_AUTH_MISSING', 'send an API key as Authorization: Bearer <key>');
  }
  const principal = keys.verify(key);
  if (!principal) throw new AgentTrailError('AT_ERR_AUTH_INVALID', 'the API key is unknown or revoked');
  return principal;
}

/**
 * Requires a valid collector key on every route of the context that registers it. It shares its
 * hook with that context (what fastify-plugin does, via fastify's documented `skip-override`),
 * so the routes registered next to it are guarded; routes outside that context are not.
 */
export const authPlugin: FastifyPluginAsync<{ keys: KeyStore }> = async (app: FastifyInstance, opts) => {
  app.addHook('onRequest', async (req) => {
    req.principal = authenticate(req, opts.keys);
  });
};
Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });
