import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AgentTrailError } from '../../platform/errors.js';
import type { KeyStore, Principal } from '../keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook; null before it ran (declared up front for a stable shape). */
    principal: Principal | null;
  }
}

/**
 * The presented API key: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or HTTP Basic with
 * the key as password (so a browser can open /docs: it prompts, then resends it).
 */
export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const [scheme, value] = auth.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value.trim();
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? decoded.slice(colon + 1) : undefined;
    }
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
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
