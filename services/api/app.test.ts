import { describe, expect, it } from 'vitest';
import type { ReadLayer } from '../platform/clickhouse/read/index.js';
import { KeyStore, mintKey } from '../platform/keys/index.js';
import { buildApi } from './app.js';
import { routeTableOf } from './route-table.js';

// The app without ClickHouse: a read layer that answers empty and records what it was asked.
// Contract tests on the real engine are test/api-*.int.test.ts.

function fakeRead(calls: unknown[][]): ReadLayer {
  const rec =
    (name: string, value: unknown) =>
    (...args: unknown[]) => {
      calls.push([name, ...args]);
      return Promise.resolve(value);
    };
  return {
    events: {
      history: rec('history', []),
      count: rec('count', 0),
      touched: rec('touched', []),
      task: rec('task', []),
      children: rec('children', []),
      scopeEvents: rec('scopeEvents', []),
      byIds: rec('byIds', []),
    },
    alerts: {
      list: rec('list', []),
      get: rec('get', undefined),
      forTasks: rec('forTasks', []),
      groups: rec('groups', []),
    },
    alertStatus: { statusOf: rec('statusOf', new Map()), current: rec('current', undefined) },
    deliveries: { forAlert: rec('forAlert', []) },
    riskSignals: { forTask: rec('forTask', []) },
  } as unknown as ReadLayer;
}

const analyst = mintKey('acme', 'a', 'analyst');
const admin = mintKey('acme', 'b', 'admin');
const collector = mintKey('acme', 'c');

async function app(calls: unknown[][] = []) {
  return buildApi({
    config: { API_MAX_PAGE: 500, API_METRICS_TOKEN: undefined },
    keys: new KeyStore([analyst.record, admin.record, collector.record], 'api'),
    read: fakeRead(calls),
  });
}
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('query API app', () => {
  it('answers health and docs without a key, everything else needs an API key', async () => {
    const a = await app();
    expect((await a.inject('/healthz')).statusCode).toBe(200);
    expect((await a.inject('/openapi.json')).json().paths['/v1/tasks/{task}'].get['x-agenttrail-role']).toBe(
      'analyst',
    );
    expect((await a.inject('/docs')).body).toContain('GET /v1/events');
    const none = await a.inject('/v1/events');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await a.inject({ url: '/v1/events', headers: auth(collector.key) })).json().code).toBe(
      'AT_ERR_AUTH_INVALID',
    );
    expect((await a.inject({ url: '/v1/events', headers: auth(analyst.key) })).statusCode).toBe(200);
  });

  it('takes the tenant from the key, never from the request', async () => {
    const calls: unknown[][] = [];
    const a = await app(calls);
    await a.inject({ url: '/v1/events/count?agent=bot-1', headers: auth(analyst.key) });
    expect(calls[0]).toEqual(['count', 'acme', { agent: 'bot-1' }]);
    const other = await a.inject({ url: '/v1/tasks/t1?tenant=globex', headers: auth(analyst.key) });
    expect(other.statusCode).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('checks the route role: /metrics needs admin (403 for an analyst)', async () => {
    const a = await app();
    expect((await a.inject({ url: '/metrics', headers: auth(analyst.key) })).statusCode).toBe(403);
    const m = await a.inject({ url: '/metrics', headers: auth(admin.key) });
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('agenttrail_api_requests_total');
  });

  it.each([
    ['an unknown parameter', '/v1/events?agnet=x'],
    ['a repeated scalar', '/v1/events?agent=a&agent=b'],
    ['a nested key', '/v1/events?agent[x]=1'],
    ['invalid percent-encoded UTF-8', '/v1/events?agent=%ED%A0%80'],
    ['a time ClickHouse would have to guess', '/v1/events?from=yesterday'],
    ['a limit out of bounds', '/v1/events?limit=100000'],
    ['a forged cursor', '/v1/events?cursor=eyJhIjoiJyJ9'],
    ['an id with a quote', "/v1/tasks/t1'--"],
  ])('%s is a 400 that names it, and nothing is read', async (_d, url) => {
    const calls: unknown[][] = [];
    const a = await app(calls);
    const r = await a.inject({ url, headers: auth(analyst.key) });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('AT_ERR_BAD_REQUEST');
    expect(calls).toEqual([]);
  });

  it('every route is in the table, and only health, docs and the link redirect are public', async () => {
    const a = await app();
    const table = routeTableOf(a);
    expect(
      table
        .filter((r) => r.config.public)
        .map((r) => r.url)
        .sort(),
    ).toEqual(
      // (/console: the web console's static files, routes/console.ts.)
      [
        '/console',
        '/console/*',
        '/docs',
        '/healthz',
        '/openapi.json',
        '/readyz',
        '/tasks/:tenant/:task',
      ].sort(),
    );
    expect(table.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['GET /v1/events', 'GET /v1/tasks/:task/export', 'GET /v1/alerts/:id']),
    );
  });

  it('redirects the alerter fallback link to the canonical timeline URL', async () => {
    const a = await app();
    const r = await a.inject('/tasks/acme/task%2F1');
    expect(r.statusCode).toBe(308);
    expect(r.headers.location).toBe('/v1/tasks/task%2F1?tenant=acme');
  });
});
