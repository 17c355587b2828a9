import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AgentTrailError } from '../../platform/errors.js';
import { type KeyStore, presentedKey } from '../../platform/keys/index.js';
import { type ApiPrincipal, hasRole, type Role } from '../roles.js';

// Authentication and the role check for every route, in one root hook: a route is guarded
// unless it says `config: { public: true }` (health, docs), so a route added later cannot
// forget its guard. Only API keys (`ata_`, kind `api`) verify here; a collector key is 401.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No key needed: the route answers nothing of any tenant (health, docs). */
    public?: boolean;
    /** /metrics: the scraper's own token (API_METRICS_TOKEN) is accepted in place of a key. */
    metricsToken?: boolean;
  }
}

export interface AuthOptions {
  keys: KeyStore;
  metricsToken?: string;
  tokenMatches: (req: FastifyRequest, token: string) => boolean;
}

export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  if (opts.keys.kind !== 'api') throw new Error('the API takes a key store of kind "api"');
  app.decorateRequest('apiPrincipal', null);
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    // No route (404) or a public one: nothing of a tenant is answered, no key needed.
    if (req.routeOptions.url === undefined || config.public) return;
    if (config.metricsToken && opts.metricsToken && opts.tokenMatches(req, opts.metricsToken)) return;
    req.apiPrincipal = authenticate(req, opts.keys);
    const need: Role = config.role ?? 'analyst';
    if (!hasRole(req.apiPrincipal.role, need)) {
      throw new AgentTrailError(
        'AT_ERR_AUTH_FORBIDDEN',
        `this needs the ${need} role; the key has ${req.apiPrincipal.role}`,
      );
    }
  });
}

function authenticate(req: FastifyRequest, keys: KeyStore): ApiPrincipal {
  const key = presentedKey(req);
  if (!key)
    throw new AgentTrailError('AT_ERR_AUTH_MISSING', 'send an API key as Authorization: Bearer <key>');
  const p = keys.verify(key);
  // A collector key (atk_) never verifies in an API store: same answer as an unknown key.
  if (!p?.role)
    throw new AgentTrailError(
      'AT_ERR_AUTH_INVALID',
      'the API key is unknown or revoked (collector keys are not valid here)',
    );
  return { keyId: p.keyId, tenant: p.tenant, role: p.role };
}
