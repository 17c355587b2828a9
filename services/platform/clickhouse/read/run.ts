import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';

// Every read of the record goes through here (the repositories of this folder): the query text
// is a constant of its repository, every value is a `{name:Type}` parameter, and each query is
// tagged with its caller (`log_comment`, `query_id`), so `system.query_log` says who read what.
// Reads run with readonly=2 (no writes, whatever the text) and bounded time and result size.

/** Pass as the tenant of a read only the pipeline itself makes across tenants (recovery). */
export const ALL_TENANTS: unique symbol = Symbol('all tenants');
export type TenantArg = string | typeof ALL_TENANTS;

export interface ReadContext {
  client: ClickHouseClient;
  /** The AgentTrail database (bound as `{db:Identifier}`). */
  database: string;
  /** Who reads: `api`, `cli`, `detector`, `alerter`, `backtest`, … (log_comment, query_id). */
  caller: string;
  /** Longest a read may run (ClickHouse max_execution_time). */
  maxExecutionS?: number;
}

export type Params = Record<string, unknown>;

/** The tenant condition's parameters: `{tenant:String}` and `{all_tenants:UInt8}`. */
export function tenantParams(tenant: TenantArg): Params {
  if (tenant !== ALL_TENANTS && (typeof tenant !== 'string' || tenant === ''))
    throw new TypeError('a read needs a tenant (or ALL_TENANTS, for the pipeline itself)');
  return tenant === ALL_TENANTS ? { tenant: '', all_tenants: 1 } : { tenant, all_tenants: 0 };
}

/** SQL for the tenant condition on `column`, paired with tenantParams. */
export const TENANT_CONDITION = (column = 'tenant') =>
  `({all_tenants:UInt8} = 1 OR ${column} = {tenant:String})`;

function settings(ctx: ReadContext) {
  return {
    log_comment: `agenttrail:${ctx.caller}`,
    readonly: '2' as const,
    max_execution_time: ctx.maxExecutionS ?? 30,
  };
}

function queryId(ctx: ReadContext): string {
  return `agenttrail-${ctx.caller}-${randomUUID()}`;
}

/** Run a read and return every row. */
export async function readRows<T>(ctx: ReadContext, query: string, params: Params): Promise<T[]> {
  const rs = await ctx.client.query({
    query,
    query_params: { db: ctx.database, ...params },
    query_id: queryId(ctx),
    format: 'JSONEachRow',
    clickhouse_settings: settings(ctx),
  });
  return rs.json<T>();
}

/** Run a read and yield rows as they arrive (exports, backtests): never the whole result in memory. */
export async function* streamRows<T>(ctx: ReadContext, query: string, params: Params): AsyncGenerator<T> {
  const rs = await ctx.client.query({
    query,
    query_params: { db: ctx.database, ...params },
    query_id: queryId(ctx),
    format: 'JSONEachRow',
    clickhouse_settings: settings(ctx),
  });
  for await (const rows of rs.stream<T>()) for (const row of rows) yield row.json();
}
