import type { FastifyRequest } from 'fastify';

/**
 * The presented API key: `Authorization: Bearer <key>`, `X-API-Key: <key>`, or HTTP Basic with
 * the key as password (so a browser can open /docs: it prompts, then resends it). Shared by the
 * gateway and the API; which keys verify is the store's kind (store.ts), not this.
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
