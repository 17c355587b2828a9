import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

// Every stage reports the same families (after Vector's component spec): received, sent,
// errors by code, dropped by reason, and batch size/duration. Labels stay low-cardinality:
// never a task, agent or event id.

export interface StageMetrics {
  registry: Registry;
  received: Counter<'stage'>;
  sent: Counter<'stage'>;
  errors: Counter<'stage' | 'code'>;
  dropped: Counter<'stage' | 'reason'>;
  batchSize: Histogram<'stage'>;
  batchSeconds: Histogram<'stage'>;
}

export function createStageMetrics(stage: string, registry = new Registry()): StageMetrics {
  registry.setDefaultLabels({ service: stage });
  collectDefaultMetrics({ register: registry, prefix: 'agenttrail_process_' });
  const received = new Counter({
    name: 'agenttrail_received_total',
    help: 'Events or alerts taken in by the stage',
    labelNames: ['stage'],
    registers: [registry],
  });
  const sent = new Counter({
    name: 'agenttrail_sent_total',
    help: 'Events, rows, alerts or pages the stage handed on durably',
    labelNames: ['stage'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'agenttrail_errors_total',
    help: 'Errors by catalogue code',
    labelNames: ['stage', 'code'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'agenttrail_dropped_total',
    help: 'Items not handed on, by reason (each also went to a dead-letter topic or a 4xx answer)',
    labelNames: ['stage', 'reason'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'agenttrail_batch_size',
    help: 'Items per batch',
    labelNames: ['stage'],
    buckets: [1, 10, 100, 500, 1000, 5000, 10000, 50000],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'agenttrail_batch_duration_seconds',
    help: 'Time to process one batch, end to end',
    labelNames: ['stage'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, received, sent, errors, dropped, batchSize, batchSeconds };
}

export interface AdminAnswer {
  status: number;
  body: unknown;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * `/metrics` (and `/healthz`) for stages without their own HTTP server. The token, when set,
 * is required as `Authorization: Bearer <token>` on /metrics.
 */
export function serveMetrics(
  registry: Registry,
  opts: {
    port: number;
    host?: string;
    token?: string;
    /** Alive (/healthz): the process works and keeps its place in the consumer group. */
    healthy?: () => boolean;
    /** Ready (/readyz): its writes succeed (platform/write-health.ts); with a reason when not. */
    ready?: () => { ok: boolean; reason?: string };
    /**
     * Operator actions, `POST /admin/<name>` with `Authorization: Bearer <token>` (e.g. the
     * detector's rules reload, asked for by the query API's admin route). Without a token, none.
     */
    admin?: {
      token: string | undefined;
      actions: Record<string, () => Promise<AdminAnswer>>;
      /** An action that threw: logged by the stage, answered 500. */
      onError: (err: unknown, action: string) => void;
    };
  },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url?.startsWith('/admin/')) {
      const action = opts.admin?.token ? opts.admin.actions[req.url.slice('/admin/'.length)] : undefined;
      if (!action || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (!bearerMatches(req.headers.authorization, opts.admin!.token!)) {
        res.writeHead(401).end();
        return;
      }
      const name = req.url.slice('/admin/'.length);
      const answer = await action().catch((err: Error) => {
        opts.admin!.onError(err, name);
        return { status: 500, body: { error: err.message } };
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      return;
    }
    if (req.url === '/healthz' || req.url === '/readyz') {
      const alive = opts.healthy ? opts.healthy() : true;
      const body = req.url === '/healthz' || !alive ? { ok: alive } : (opts.ready?.() ?? { ok: true });
      res.writeHead(body.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server));
  });
}
