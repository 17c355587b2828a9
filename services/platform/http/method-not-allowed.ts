import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// A known path asked with a method it does not serve is a 405 with `Allow` (RFC 9110 15.5.6),
// not a 404: the client has the right URL and the wrong verb. Routes are recorded as they are
// registered; call before registering any route.

/** 404 for an unknown path and 405 (with Allow) for a known one: call before any route. */
export function installNotFound(app: FastifyInstance): void {
  const methodNotAllowed = recordRoutes(app);
  app.setNotFoundHandler((req, reply) => {
    if (methodNotAllowed(req, reply)) return reply;
    return reply.code(404).send({
      code: 'AT_ERR_NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 256)}`,
    });
  });
}

export function recordRoutes(app: FastifyInstance): (req: FastifyRequest, reply: FastifyReply) => boolean {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const list = Array.isArray(route.method) ? route.method : [route.method];
    const set = methods.get(route.url) ?? new Set<string>();
    methods.set(route.url, set);
    for (const m of list) set.add(m.toUpperCase());
  });
  /** Answers 405 and returns true when the path is known; false for an unknown path. */
  return (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = methods.get(path);
    if (!allowed || allowed.has(req.method)) return false;
    const allow = [...allowed].sort().join(', ');
    reply
      .code(405)
      .header('allow', allow)
      .send({
        code: 'AT_ERR_METHOD_NOT_ALLOWED',
        message: `${req.method} is not served on ${path}; use ${allow}`,
      });
    return true;
  };
}
