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

function query(ctx: ReadContext, sql: string, params: Params) {
  return ctx.client.query({
    query: sql,
    query_params: { db: ctx.database, ...params },
    query_id: `agenttrail-${ctx.caller}-${randomUUID()}`,
    format: 'JSONEachRow',
    clickhouse_settings: {
      log_comment: `agenttrail:${ctx.caller}`,
      readonly: '2',
      max_execution_time: ctx.maxExecutionS ?? 30,
    },
  });
}

/** Run a read and return every row. */
export async function readRows<T>(ctx: ReadContext, sql: string, params: Params): Promise<T[]> {
  return (await query(ctx, sql, params)).json<T>();
}

/** Run a read and yield rows as they arrive (exports, backtests): never the whole result in memory. */
export async function* streamRows<T>(ctx: ReadContext, sql: string, params: Params): AsyncGenerator<T> {
  for await (const rows of (await query(ctx, sql, params)).stream<T>())
    for (const row of rows) yield row.json();
}

/** One optional filter: the constant SQL that tests it and the parameter its value is bound to. */
export interface Clause {
  param: string;
  sql: string;
  /** The bound value, from the filter's (a glob becomes its regex). */
  bind?: (value: string) => string;
}

/**
 * The WHERE of a filtered read: the tenant condition and the clause of each filter present. The
 * text comes only from the constant clauses; every value is bound.
 */
export function filterWhere<F extends object>(
  tenant: TenantArg,
  filter: F,
  clauses: Record<keyof F, Clause>,
  what: string,
): { sql: string; params: Params } {
  const params: Params = tenantParams(tenant);
  const parts = [TENANT_CONDITION()];
  for (const [key, value] of Object.entries(filter) as Array<[keyof F, unknown]>) {
    if (value === undefined || value === '') continue;
    const clause = clauses[key];
    if (!clause) throw new TypeError(`unknown ${what} filter '${String(key)}'`);
    params[clause.param] = clause.bind ? clause.bind(String(value)) : value;
    parts.push(clause.sql);
  }
  return { sql: parts.join(' AND '), params };
}
