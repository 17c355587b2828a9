import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// A client's X-Request-Id is taken only in a safe token form: it is echoed in answers and
// logged, so markup, quotes, control characters or a megabyte of text must never pass through.

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE.test(given) ? given : randomUUID();
}

/** fastify server options: our id function in place of the header taken verbatim. */
export const requestIdOptions = { requestIdHeader: false as const, genReqId: requestId };
