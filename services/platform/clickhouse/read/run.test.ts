import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { ALL_TENANTS, readRows, TENANT_CONDITION, tenantParams } from './run.js';

// What every read sends: its caller in log_comment and query_id, readonly=2, a time bound, and
// the tenant as a parameter (a read without one does not run).

function capturing() {
  const calls: Array<Record<string, unknown>> = [];
  const client = {
    query: async (p: Record<string, unknown>) => {
      calls.push(p);
      return { json: async () => [] };
    },
  } as unknown as ClickHouseClient;
  return { client, calls };
}

describe('readRows', () => {
  it('tags the query with its caller and runs it read-only and time-bounded', async () => {
    const { client, calls } = capturing();
    await readRows(
      { client, database: 'db1', caller: 'api' },
      `SELECT 1 WHERE ${TENANT_CONDITION()}`,
      tenantParams('acme'),
    );
    expect(calls[0]).toMatchObject({
      query_params: { db: 'db1', tenant: 'acme', all_tenants: 0 },
      query_id: expect.stringMatching(/^agenttrail-api-[0-9a-f-]{36}$/),
      clickhouse_settings: { log_comment: 'agenttrail:api', readonly: '2', max_execution_time: 30 },
    });
  });

  it('needs a tenant, or ALL_TENANTS said explicitly', () => {
    expect(() => tenantParams('')).toThrow(/needs a tenant/);
    expect(() => tenantParams(undefined as unknown as string)).toThrow(/needs a tenant/);
    expect(tenantParams(ALL_TENANTS)).toEqual({ tenant: '', all_tenants: 1 });
  });
});
