import { timingSafeEqual } from 'node:crypto';
import { ClickHouseError } from '@clickhouse/client';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { ReadLayer } from '../platform/clickhouse/read/index.js';
import type { AgentTrailError } from '../platform/errors.js';
import { clientErrorHandler } from '../platform/http/client-error.js';
import { installNotFound } from '../platform/http/method-not-allowed.js';
import { requestIdOptions } from '../platform/http/request-id.js';
import { wireError } from '../platform/http/wire-error.js';
import type { KeyStore } from '../platform/keys/index.js';
import type { Logger } from '../platform/logger.js';
import type { AlertStatusWriter } from './alert-status/writer.js';
import type { ApiAppConfig } from './config.js';
import { type ApiMetrics, createApiMetrics } from './metrics.js';
import { installAuth } from './plugins/auth.js';
import { installBrowserLinks } from './plugins/browser-link.js';
import { assertQueryDecoded, parseQuery } from './query/querystring.js';
import { recordRouteTable } from './route-table.js';
import { agentsRoutes } from './routes/agents.js';
import { alertStatusRoutes } from './routes/alert-status.js';
import { alertsRoutes } from './routes/alerts.js';
import { consoleRoutes } from './routes/console.js';
import { docsRoutes } from './routes/docs.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes, type Readiness } from './routes/health.js';
import { type KeysRouteOptions, keysRoutes } from './routes/keys.js';
import { metricsRoutes } from './routes/metrics.js';
import { resourcesRoutes } from './routes/resources.js';
import { type ReloadRules, rulesRoutes } from './routes/rules.js';
import { tasksRoutes } from './routes/tasks.js';

// Builds the query API from injected parts (config, keys, read layer, logger) with no I/O of
// its own, so tests build it over a real ClickHouse client and call app.inject. main.ts wires.

export interface ApiDeps {
  config: ApiAppConfig;
  /** A key store of kind `api` (platform/keys): collector keys never verify in it. */
  keys: KeyStore;
  read: ReadLayer;
  logger?: Logger;
  metrics?: ApiMetrics;
  /** /readyz; by default ready (tests). main.ts pings ClickHouse. */
  ready?: Readiness;
  /**
   * Acknowledge and resolve (routes/alert-status.ts): registered when given. Its writer
   * produces to Kafka, so main.ts builds it; tests pass a real one or leave the API read-only.
   */
  alertStatus?: AlertStatusWriter;
  /** Key management for admins (routes/keys.ts): the keys files it writes. */
  keyFiles?: KeysRouteOptions;
  /** Rules reload for admins (routes/rules.ts): asks the detector. */
  reloadRules?: ReloadRules;
}

function tokenMatches(req: FastifyRequest, token: string): boolean {
  const presented = Buffer.from(req.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** ClickHouse failing (down, refusing, timing out): a 503 whose text says nothing of ClickHouse's. */
function isClickHouseFailure(err: unknown): boolean {
  if (err instanceof ClickHouseError) return true;
  const code = (err as { code?: unknown })?.code;
  return (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code)
  );
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? createApiMetrics();
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    ...requestIdOptions,
    clientErrorHandler,
    // The router's own refusals (a bad percent-encoding or an over-long path parameter) in our
    // shape and codes; fastify's default body names its internals and echoes the whole path.
    frameworkErrors: (err, _req, reply) => {
      const long = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      (reply as FastifyReply).code(400).send({
        code: 'AT_ERR_BAD_REQUEST',
        message: long
          ? 'a path parameter is longer than 512 characters'
          : 'the URL is not valid percent-encoded UTF-8',
      });
    },
    routerOptions: { querystringParser: parseQuery, maxParamLength: 512 },
    // Unknown query parameters are refused (400), not dropped: a mistyped filter must not
    // silently answer the unfiltered history.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  });
  const limits = { maxBodyBytes: 1024 * 1024, mediaTypes: 'send application/json' };
  installNotFound(app);
  const routes = recordRouteTable(app);

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route, method: req.method }, reply.elapsedTime / 1000);
  });
  app.addHook('preValidation', async (req) => assertQueryDecoded(req.query));
  // Before auth: a browser following an alert link without a key goes to the console instead.
  installBrowserLinks(app);
  installAuth(app, { keys: deps.keys, metricsToken: deps.config.API_METRICS_TOKEN, tokenMatches });

  // Root error handler: only deliberate errors (catalogue codes, status < 500) reach the client;
  // ClickHouse failing is a 503 with our words, anything else a logged, generic 500.
  app.setErrorHandler((err: FastifyError | AgentTrailError, req, reply) => {
    const d = wireError(err, limits);
    if (!d) {
      const ch = isClickHouseFailure(err);
      const code = ch ? 'AT_ERR_CLICKHOUSE_UNAVAILABLE' : 'AT_ERR_INTERNAL';
      req.log.error(
        { err, reqId: req.id, route: req.routeOptions.url },
        ch ? 'ClickHouse read failed' : 'unhandled error in request',
      );
      metrics.errors.inc({ stage: 'api', code });
      if (ch) reply.header('retry-after', '5');
      return reply.code(ch ? 503 : 500).send({
        code,
        message: ch
          ? `the record could not be read right now; retry (request ${req.id})`
          : `internal error (request ${req.id})`,
      });
    }
    metrics.errors.inc({ stage: 'api', code: d.code });
    if (d.status === 503) reply.header('retry-after', '5');
    if (d.status === 401) {
      reply.header(
        'www-authenticate',
        req.url.startsWith('/docs') ? 'Basic realm="agenttrail"' : 'Bearer realm="agenttrail"',
      );
    }
    return reply.code(d.status).send({ code: d.code, message: d.message, ...d.extra });
  });

  const ready = deps.ready ?? { check: async () => ({ ok: true }) };
  const page = { maxPage: deps.config.API_MAX_PAGE };
  await app.register(healthRoutes, { ready });
  await app.register(metricsRoutes, { registry: metrics.registry });
  await app.register(docsRoutes, { routes });
  await app.register(eventsRoutes, { read: deps.read, metrics, ...page });
  await app.register(resourcesRoutes, { read: deps.read });
  await app.register(agentsRoutes, { read: deps.read });
  await app.register(tasksRoutes, {
    read: deps.read,
    metrics,
    maxTimelineEvents: deps.config.API_TIMELINE_MAX_EVENTS ?? 20_000,
  });
  await app.register(alertsRoutes, { read: deps.read, ...page });
  // Behind the same root auth hook; its routes declare `config: { role: 'responder' }`.
  if (deps.alertStatus) await app.register(alertStatusRoutes, { writer: deps.alertStatus });
  // Behind the same hook; its routes declare `config: { role: 'admin' }`.
  if (deps.keyFiles) await app.register(keysRoutes, deps.keyFiles);
  // The web console's static files (public; the page sends the key to the routes above).
  await app.register(consoleRoutes);
  if (deps.reloadRules) await app.register(rulesRoutes, { reload: deps.reloadRules });
  return app;
}
