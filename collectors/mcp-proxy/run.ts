import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { Counter } from 'prom-client';
import { type AgentTrail, createAgentTrail } from '../../sdk/index.js';
import { createLifecycle } from '../../services/platform/lifecycle.js';
import { createLogger, type Logger } from '../../services/platform/logger.js';
import { createStageMetrics, serveMetrics } from '../../services/platform/metrics.js';
import type { ResolvedConfig } from './config.js';
import { createProxyServer } from './proxy.js';
import { TaskRecorder } from './recorder.js';
import { connectUpstream, type Upstream } from './upstream.js';

// The proxy as a process: stdout and stdin are the MCP channel to the agent, so logs go to
// stderr. Start: SDK client, the configured task (if any), every upstream (a server that does not
// answer fails start-up), then the client-facing server. Stop (the client closes stdin, or
// SIGTERM/SIGINT): let in-flight calls answer, record the task's end, close the upstreams, flush
// the SDK's outbox; whatever could not be delivered in time is logged as an error, exit 1.

const STAGE = 'mcp-proxy';

export interface RunningProxy {
  /** Resolves with the exit code once the proxy has stopped. */
  done: Promise<number>;
  stop(reason: string, outcome: 'completed' | 'cancelled'): Promise<number>;
}

function sdkLogger(log: Logger) {
  return { warn: (message: string, fields?: Record<string, unknown>) => log.warn(fields ?? {}, message) };
}

export async function runProxy(resolved: ResolvedConfig): Promise<RunningProxy> {
  const { config } = resolved;
  const log = createLogger(STAGE, { level: config.log_level, fd: 2 });
  const metrics = createStageMetrics(STAGE);
  const unmappedTools = new Counter({
    name: 'agenttrail_mcp_unmapped_tools_total',
    help: 'Distinct tools called that no mapping rule covers (recorded with the default operation)',
    registers: [metrics.registry],
  });
  const lifecycle = createLifecycle(log, { timeoutMs: config.shutdown_timeout_ms });

  const trail: AgentTrail = createAgentTrail({
    endpoint: config.gateway.endpoint,
    apiKey: resolved.apiKey,
    tenant: config.tenant,
    agent: config.agent,
    batchSize: config.sdk.batch_size,
    flushIntervalMs: config.sdk.flush_interval_ms,
    bufferCapacity: config.sdk.buffer_capacity,
    bufferFullTimeoutMs: config.sdk.buffer_full_timeout_ms,
    logger: sdkLogger(log.child({ component: 'sdk' })),
    onError: (err) => metrics.errors.inc({ stage: STAGE, code: err.name }),
  });
  lifecycle.onStop('sdk outbox', async () => {
    await trail.close();
    const s = trail.stats();
    log.info(s, 'sdk closed');
  });

  const recorder = new TaskRecorder({
    trail,
    mode: config.mode,
    defaultDeclarer: config.agent.id,
    excerptChars: config.excerpt_chars,
  });
  if (config.task) {
    const task = await recorder.declare(config.task);
    log.info({ task_id: task.handle.id, mode: config.mode }, 'task declared from configuration');
  } else {
    log.info(
      { mode: config.mode },
      'no task configured: the client declares it with _meta["agenttrail/task"]',
    );
  }

  const upstreams: Upstream[] = [];
  lifecycle.onStop('upstreams', async () => {
    await Promise.all(upstreams.map((u) => u.close().catch(() => undefined)));
  });
  let endOutcome: 'completed' | 'cancelled' = 'completed';
  let endReason = 'session closed';
  lifecycle.onStop('task end', () => recorder.end(endOutcome, `mcp-proxy: ${endReason}`));
  try {
    for (const s of resolved.servers)
      upstreams.push(await connectUpstream(s, config.request_timeout_ms, log));
  } catch (err) {
    log.error({ err }, 'an upstream server did not start');
    endOutcome = 'cancelled';
    endReason = 'an upstream server did not start';
    await lifecycle.shutdown('start-up failed').catch(() => undefined);
    throw err;
  }

  const channel = new StdioServerTransport();
  let inFlight: ReturnType<typeof trackRequests> | undefined;
  const server = createProxyServer(upstreams, recorder, {
    timeoutMs: config.request_timeout_ms,
    log,
    hooks: {
      track(p) {
        metrics.received.inc({ stage: STAGE });
        p.then(
          () => metrics.sent.inc({ stage: STAGE }),
          (err: { data?: { code?: unknown } }) =>
            metrics.errors.inc({ stage: STAGE, code: String(err?.data?.code ?? 'AT_ERR_MCP_UPSTREAM') }),
        );
      },
      onUnmapped: () => unmappedTools.inc(),
    },
  });
  lifecycle.onStop('client channel', () => server.close());
  lifecycle.onStop('in-flight requests', () => inFlight?.drained());

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<number> | undefined;
  function stop(reason: string, outcome: 'completed' | 'cancelled'): Promise<number> {
    if (stopping) return stopping;
    endOutcome = outcome;
    endReason = reason;
    stopping = lifecycle
      .shutdown(reason)
      .then(
        () => {
          const { pending } = trail.stats();
          if (pending === 0) return 0;
          log.error({ pending }, 'events recorded but not delivered to the gateway before the deadline');
          return 1;
        },
        (err) => {
          log.error({ err, pending: trail.pending }, 'shutdown did not complete');
          return 1;
        },
      )
      .then((code) => {
        log.flush();
        resolveDone(code);
        return code;
      });
    return stopping;
  }

  await server.connect(channel);
  inFlight = trackRequests(channel);
  process.stdin.once('end', () => void stop('the client closed the session', 'completed'));
  process.once('SIGTERM', () => void stop('SIGTERM', 'cancelled'));
  process.once('SIGINT', () => void stop('SIGINT', 'cancelled'));

  if (config.metrics_port !== undefined) {
    const http = await serveMetrics(metrics.registry, { port: config.metrics_port, host: '127.0.0.1' });
    lifecycle.onStop('metrics', () => new Promise<void>((r) => http.close(() => r())));
  }
  log.info({ servers: upstreams.map((u) => u.name), mode: config.mode }, 'mcp-proxy serving on stdio');
  return { done, stop };
}

/**
 * Requests the client sent that have not been answered yet, counted on the channel itself: a
 * client that writes its requests and closes stdin at once (a script, a pipe) still gets every
 * answer, and every call is recorded, before the proxy stops. Call after `server.connect`.
 */
function trackRequests(channel: StdioServerTransport): { drained(): Promise<void> } {
  const open = new Set<string | number>();
  const waiters: Array<() => void> = [];
  const send = channel.send.bind(channel);
  channel.send = async (message: JSONRPCMessage) => {
    await send(message);
    if (('result' in message || 'error' in message) && message.id !== undefined && open.delete(message.id)) {
      if (open.size === 0) for (const w of waiters.splice(0)) w();
    }
  };
  const handle = channel.onmessage;
  channel.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) open.add(message.id);
    handle?.(message);
  };
  return {
    drained: () => (open.size === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
