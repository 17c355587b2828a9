import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { AgentTrailError } from '../platform/errors.js';
import { clientErrorHandler } from '../platform/http/client-error.js';
import { installNotFound } from '../platform/http/method-not-allowed.js';
import { requestIdOptions } from '../platform/http/request-id.js';
import { wireError } from '../platform/http/wire-error.js';
import type { Logger } from '../platform/logger.js';
import { compileMapping, EMPTY_MAPPING, loadMappingFile } from '../platform/tool-mapping.js';
import type { AppConfig } from './config.js';
import type { KeyStore } from './keys.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { TaskSeqs } from './otlp/task-seqs.js';
import { authPlugin } from './plugins/auth.js';
import { TokenBuckets } from './rate-limit.js';
import { docsRoutes } from './routes/docs.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { tracesRoutes } from './routes/traces.js';
import type { EventSink } from './sink.js';

// Builds the gateway from injected parts (config, keys, sink, logger) with no I/O of its own,
// so tests build it with a fake sink or a real Kafka producer alike. main.ts does the wiring.

export interface GatewayDeps {
  config: AppConfig;
  keys: KeyStore;
  sink: EventSink;
  logger?: Logger;
  metrics?: GatewayMetrics;
}

export async function buildApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const cfg = deps.config;
  const metrics = deps.metrics ?? createGatewayMetrics();
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: cfg.GATEWAY_MAX_BODY_BYTES,
    // One line per request at info would be per-batch noise; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    ...requestIdOptions,
    clientErrorHandler,
  });
  const limits = {
    maxBodyBytes: cfg.GATEWAY_MAX_BODY_BYTES,
    mediaTypes:
      'send application/json (an event or an array of events) or application/x-ndjson to /v1/events, ' +
      'application/x-protobuf or application/json (OTLP) to /v1/traces',
  };
  installNotFound(app);
  // The id a client can quote to an operator (it is in every log line of the request).
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // Final request shape declared up front (fastify decorators guide).
  app.decorateRequest('principal', null);
  app.decorateRequest('eventCount', 0);

  // Root error handler: only deliberate errors (catalogue codes, status < 500) reach the client;
  // anything else is logged with the request id and answered with a generic 500.
  app.setErrorHandler((err: FastifyError | AgentTrailError, req, reply) => {
    const d = wireError(err, limits);
    if (!d) {
      req.log.error({ err, reqId: req.id }, 'unhandled error in request');
      metrics.errors.inc({ stage: 'gateway', code: 'AT_ERR_INTERNAL' });
      return reply.code(500).send({ code: 'AT_ERR_INTERNAL', message: `internal error (request ${req.id})` });
    }
    metrics.errors.inc({ stage: 'gateway', code: d.code });
    if (req.eventCount > 0) metrics.dropped.inc({ stage: 'gateway', reason: d.code }, req.eventCount);
    if (d.status === 401) {
      reply.header(
        'www-authenticate',
        req.url.startsWith('/docs') ? 'Basic realm="agenttrail"' : 'Bearer realm="agenttrail"',
      );
    }
    if (d.status === 503) {
      req.log.warn({ err, reqId: req.id }, 'Kafka did not acknowledge; answered 503');
      reply.header('retry-after', String(cfg.GATEWAY_RETRY_AFTER_S));
      d.extra.retry_after_s = cfg.GATEWAY_RETRY_AFTER_S;
    }
    if (d.status === 429 && typeof d.extra.retry_after_s === 'number') {
      reply.header('retry-after', String(d.extra.retry_after_s));
    }
    return reply.code(d.status).send({ code: d.code, message: d.message, ...d.extra });
  });

  await app.register(healthRoutes, { sink: deps.sink });
  await app.register(metricsRoutes, {
    registry: metrics.registry,
    keys: deps.keys,
    token: cfg.GATEWAY_METRICS_TOKEN,
  });
  // One bucket per key whichever route its events come by.
  const intake = {
    sink: deps.sink,
    metrics,
    buckets: new TokenBuckets(cfg.GATEWAY_RATE_LIMIT_EVENTS_PER_S, cfg.GATEWAY_RATE_LIMIT_BURST_EVENTS),
    fingerprintKey: cfg.GATEWAY_FINGERPRINT_KEY,
    maxBodyBytes: cfg.GATEWAY_MAX_BODY_BYTES,
    maxBatchEvents: cfg.GATEWAY_MAX_BATCH_EVENTS,
  };
  const mapping = cfg.GATEWAY_OTLP_TOOL_MAPPING
    ? loadMappingFile(cfg.GATEWAY_OTLP_TOOL_MAPPING)
    : EMPTY_MAPPING;
  // Everything registered in this context requires a collector key.
  await app.register(async (authed) => {
    await authed.register(authPlugin, { keys: deps.keys });
    await authed.register(eventsRoutes, intake);
    await authed.register(tracesRoutes, {
      ...intake,
      mapper: compileMapping(mapping),
      seqs: new TaskSeqs({ maxTasks: cfg.GATEWAY_OTLP_MAX_TASKS ?? 100_000, maxRemembered: 1024 }),
      rejectWhole: cfg.GATEWAY_OTLP_PARTIAL_SUCCESS === false,
    });
    await authed.register(docsRoutes, { maxBatchEvents: cfg.GATEWAY_MAX_BATCH_EVENTS });
  });
  return app;
}
