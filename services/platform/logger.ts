import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

// One root logger per process with `service` and `instance` bindings; components take
// children, never one per event. Secrets never reach a log line: the paths below are censored.
const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'url_secret',
  '*.webhook_url',
  '*.signing_secret',
  '*.routing_key',
];

export function createLogger(
  service: string,
  /** `fd: 2` logs to stderr, for a process whose stdout is a protocol channel (the MCP proxy). */
  opts: { level?: string; instance?: string; fd?: 1 | 2 } = {},
): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service, instance: opts.instance ?? `${hostname()}:${process.pid}` },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.fd === 2 ? pino(options, pino.destination({ fd: 2, sync: true })) : pino(options);
}
