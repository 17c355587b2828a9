import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

// The web console: static files from services/api/console/, public (they hold nothing of any
// tenant; the page asks for an API key and sends it as a Bearer header to the API's own routes).
// The files are read once at registration into a fixed table, so a request names a file of
// that table or is a 404: no path from the URL ever reaches the file system.

const DIR = fileURLToPath(new URL('../console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Only our own files, no inline script or style, never framed. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  body: Buffer;
  type: string;
}

function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return files;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cache-control', 'no-cache');
}

export const consoleRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, opts) => {
  const files = loadFiles(opts.dir ?? DIR);
  const schema = {
    summary: 'The web console (static files; sign in there with an API key)',
    tags: ['console'],
  };
  app.get('/console', { config: { public: true }, schema }, async (_req, reply) =>
    secure(reply).redirect('/console/', 308),
  );
  app.get<{ Params: { '*': string } }>(
    '/console/*',
    { config: { public: true, produces: ['text/html', 'text/javascript', 'text/css'] }, schema },
    async (req, reply) => {
      const name = req.params['*'] || 'index.html';
      const file = files.get(name);
      secure(reply);
      if (!file) {
        return reply.code(404).send({ code: 'AT_ERR_NOT_FOUND', message: 'no such console file' });
      }
      return reply.type(file.type).send(file.body);
    },
  );
};
