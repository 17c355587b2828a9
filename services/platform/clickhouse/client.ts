import { type ClickHouseClient, type Logger as ClientLogger, createClient } from '@clickhouse/client';
import type { Logger } from '../logger.js';

export interface ClickHouseSettings {
  CLICKHOUSE_URL: string;
  CLICKHOUSE_DATABASE: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
}

/**
 * A client bound to the AgentTrail database. Every query passes values as `{name:Type}`
 * parameters (`query_params`), never by string building. `application` tags the query log
 * with the stage so `system.query_log` names who ran what.
 */
export function createClickHouse(
  settings: ClickHouseSettings,
  stage: string,
  database?: string,
  logger?: Logger,
): ClickHouseClient {
  return createClient({
    // The client's own log lines (multi-line, on the console by default) go to pino when given.
    ...(logger ? { log: { LoggerClass: pinoLoggerClass(logger.child({ component: 'clickhouse' })) } } : {}),
    url: settings.CLICKHOUSE_URL,
    username: settings.CLICKHOUSE_USER,
    password: settings.CLICKHOUSE_PASSWORD,
    database: database ?? settings.CLICKHOUSE_DATABASE,
    application: `agenttrail-${stage}`,
    request_timeout: 30_000,
    clickhouse_settings: { date_time_input_format: 'best_effort' },
  });
}

/** A client without a default database, for creating it. */
export function createClickHouseAdmin(
  settings: ClickHouseSettings,
  stage: string,
  logger?: Logger,
): ClickHouseClient {
  return createClickHouse(settings, stage, 'default', logger);
}

function pinoLoggerClass(log: Logger): new () => ClientLogger {
  return class implements ClientLogger {
    trace(p: { message: string; args?: Record<string, unknown> }) {
      log.trace({ args: p.args }, p.message);
    }
    debug(p: { message: string; args?: Record<string, unknown> }) {
      log.debug({ args: p.args }, p.message);
    }
    info(p: { message: string; args?: Record<string, unknown> }) {
      log.info({ args: p.args }, p.message);
    }
    warn(p: { message: string; err?: Error }) {
      log.warn({ err: p.err?.message }, p.message);
    }
    error(p: { message: string; err: Error }) {
      log.error({ err: p.err.message }, p.message);
    }
  };
}
