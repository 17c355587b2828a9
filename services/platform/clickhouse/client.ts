import { type ClickHouseClient, createClient } from '@clickhouse/client';

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
): ClickHouseClient {
  return createClient({
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
export function createClickHouseAdmin(settings: ClickHouseSettings, stage: string): ClickHouseClient {
  return createClickHouse(settings, stage, 'default');
}
