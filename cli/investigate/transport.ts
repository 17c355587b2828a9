import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApi } from '../../services/api/app.js';
import { createClickHouse } from '../../services/platform/clickhouse/client.js';
import { createReadLayer } from '../../services/platform/clickhouse/read/index.js';
import { clickhouseConfig, parseConfig } from '../../services/platform/config.js';
import { KeyStore, mintKey } from '../../services/platform/keys/index.js';
import { CliError, EXIT } from './exit.js';

// How the investigation commands reach the record, in one shape whatever the mode:
//   api    — HTTP to a running query API with the caller's key;
//   direct — the same API (buildApi) built in this process over a ClickHouse client, called
//            through app.inject with a key minted in memory for --tenant, so the operator on
//            the box gets exactly the answers the API gives (one query and timeline code path).
// node:http rather than fetch in API mode: exports end with HTTP trailers (rows, chain verdict).

export type Query = Record<string, string | number | undefined>;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The HTTP trailers; complete once `body` has ended. */
  trailers(): Record<string, string | undefined>;
}

export interface Transport {
  readonly mode: 'api' | 'direct';
  /** Where answers come from, for messages (never a key). */
  readonly target: string;
  request(method: 'GET' | 'POST', path: string, opts?: { query?: Query; body?: unknown }): Promise<Reply>;
  close(): Promise<void>;
}

export function withQuery(path: string, query: Query = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.append(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export function httpTransport(baseUrl: string, key: string): Transport {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new CliError(EXIT.usage, `--api is not a URL: ${baseUrl.slice(0, 200)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new CliError(EXIT.usage, '--api must be an http:// or https:// URL');
  const target = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  return {
    mode: 'api',
    target,
    request(method, path, opts = {}) {
      // Joined, not resolved: an API behind a proxy path (https://h/agenttrail/) keeps it.
      const url = new URL(`${base.href.replace(/\/+$/, '')}${withQuery(path, opts.query)}`);
      const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<Reply>((resolve, reject) => {
        const req = send(
          url,
          {
            method,
            headers: {
              authorization: `Bearer ${key}`,
              ...(payload ? { 'content-type': 'application/json' } : {}),
            },
          },
          (res: IncomingMessage) =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: res,
              trailers: () => res.trailers as Record<string, string>,
            }),
        );
        req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
        req.on('error', (err: NodeJS.ErrnoException) =>
          reject(
            new CliError(EXIT.unreachable, `cannot reach the API at ${target}: ${err.code ?? err.message}`),
          ),
        );
        req.end(payload);
      });
    },
    async close() {},
  };
}

/** An app built by buildApi, called in process with a key it knows (direct mode, tests). */
export function injectTransport(
  app: FastifyInstance,
  key: string,
  target: string,
  onClose: () => Promise<void> = async () => {},
): Transport {
  return {
    mode: 'direct',
    target,
    async request(method, path, opts = {}) {
      const res = await app.inject({
        method,
        url: withQuery(path, opts.query),
        headers: { authorization: `Bearer ${key}` },
        ...(opts.body === undefined ? {} : { payload: opts.body as object }),
        payloadAsStream: true,
      });
      return {
        status: res.statusCode,
        headers: res.headers as Reply['headers'],
        body: res.stream(),
        trailers: () => res.trailers,
      };
    },
    async close() {
      await app.close();
      await onClose();
    },
  };
}

/**
 * Direct mode: ClickHouse from CLICKHOUSE_* (as every service), the tenant given. Read-only:
 * acknowledge and resolve are not registered (they record who did it: a responder key).
 */
export async function directTransport(
  tenant: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Transport> {
  let config: ReturnType<typeof parseConfig<typeof clickhouseConfig>>;
  try {
    config = parseConfig(clickhouseConfig, env);
  } catch (err) {
    throw new CliError(EXIT.usage, (err as Error).message);
  }
  // Silent: the client would print its own multi-line errors; the exit code and message say it.
  const client = createClickHouse(config, 'cli', undefined, pino({ level: 'silent' }));
  const read = createReadLayer({ client, database: config.CLICKHOUSE_DATABASE, caller: 'cli' });
  // Lives only in this process's memory, for this one tenant, read role only.
  const { key, record } = mintKey(tenant, 'cli direct', 'analyst');
  const app = await buildApi({
    config: { API_MAX_PAGE: 1000, API_METRICS_TOKEN: undefined },
    keys: new KeyStore([record], 'api'),
    read,
  });
  const url = new URL(config.CLICKHOUSE_URL);
  return injectTransport(app, key, `ClickHouse ${url.origin} (database ${config.CLICKHOUSE_DATABASE})`, () =>
    client.close(),
  );
}

/** The body as text (error bodies, JSON answers). */
export async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

export const fromString = (s: string): Readable => Readable.from([Buffer.from(s)]);
