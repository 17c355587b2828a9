import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouteEntry, routeTableOf } from '../services/api/route-table.js';
import { bearer, type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// Hostile values in every filter parameter of every route (taken from the route table, so a
// new parameter is attacked too) and in every path parameter: a clear 400, a 404, or an empty
// result; never a 5xx, never ClickHouse's error text, never another tenant's rows.

let s: Seeded;
beforeAll(async () => {
  s = await seedApi(uniqueName('it_api_inject'), { keyAdmin: true });
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Raw (already percent-encoded where needed) query values. */
const PAYLOADS: Array<[string, string]> = [
  ['a quote and OR', encodeURIComponent("planner' OR '1'='1")],
  ['a closing paren and comment', encodeURIComponent("x') OR 1=1 --")],
  ['a UNION', encodeURIComponent("x' UNION ALL SELECT name FROM system.users --")],
  ['a FORMAT override', encodeURIComponent('x FORMAT TabSeparated')],
  ['a SETTINGS override', encodeURIComponent("x' SETTINGS readonly=0, max_execution_time=9999 --")],
  ['a parameter placeholder', encodeURIComponent('{tenant:String}')],
  ['a tenant name', 'globex'],
  ['a glob of everything', encodeURIComponent('**')],
  ['a regex meant for RE2', encodeURIComponent('.*|(?i)a{1000000}')],
  ['a huge value', 'a'.repeat(100_000)],
  ['deeply nested JSON', encodeURIComponent(nested(5_000))],
  ['a lone surrogate', '%ED%A0%80'],
  ['an invalid UTF-8 byte', '%FF%FE'],
  ['a NUL and newline', '%00%0Aselect'],
  ['broken percent-encoding', '%ZZ'],
];

const CLICKHOUSE_TEXT = /DB::Exception|Code: \d+|Syntax error|clickhouse|UNKNOWN_|Cannot parse/i;

function globexMarkers(): string[] {
  return [
    '"tenant":"globex"',
    'spiffe://globex/',
    'AT-EGR-001|globex|',
    ...s.events.globex.flatMap((e) => (e.hash ? [e.hash] : [])),
  ];
}

/** An answer is empty when every list in it is empty and every count zero. */
function isEmptyAnswer(body: string, contentType: string): boolean {
  if (!contentType.startsWith('application/json')) {
    // Exports: nothing but a CSV header or a verdict line.
    return (
      body
        .split(/\r?\n/)
        .filter(
          (l) => l && !l.startsWith('event_id,') && !l.startsWith('# chain') && !l.includes('chain_verdict'),
        ).length === 0
    );
  }
  const j = JSON.parse(body) as Record<string, unknown>;
  return Object.values(j).every((v) =>
    Array.isArray(v) ? v.length === 0 : typeof v === 'number' ? v === 0 : true,
  );
}

const queryRoutes = () =>
  routeTableOf(s.app).filter((r) => !r.config.public && r.method === 'GET' && r.url.startsWith('/v1/'));

function params(r: RouteEntry): string[] {
  return Object.keys((r.schema?.querystring as { properties?: object } | undefined)?.properties ?? {});
}

function pathOf(r: RouteEntry): string {
  return r.url.replace(':task', 'acme-parent').replace(':id', s.alerts.egress).replace(':agent', 'planner');
}

describe('hostile filter values', () => {
  it('the table gives each route its parameters (the test attacks what exists)', () => {
    const all = queryRoutes().flatMap((r) => params(r).map((p) => `${r.url}?${p}`));
    expect(all).toEqual(
      expect.arrayContaining([
        '/v1/events?agent',
        '/v1/events?resource',
        '/v1/resources?glob',
        '/v1/alerts?rule',
        '/v1/tasks/:task?tenant',
      ]),
    );
    expect(all.length).toBeGreaterThan(50);
  });

  it.each(PAYLOADS)(
    '%s in every parameter: 400 or empty, no ClickHouse text, no other tenant',
    async (_d, value) => {
      const markers = globexMarkers();
      for (const r of queryRoutes()) {
        for (const p of params(r)) {
          // Keep the route's other required parameters valid, so the hostile one is what is judged.
          const extra = p !== 'glob' && params(r).includes('glob') ? '&glob=erp:**' : '';
          const url = `${pathOf(r)}?${p}=${value}${extra}`;
          const res = await s.app.inject({ url, headers: bearer(s.keys.analyst) });
          const where = `${r.url} ${p}=${_d}: ${res.statusCode} ${res.body.slice(0, 200)}`;
          expect([200, 400, 404], where).toContain(res.statusCode);
          expect(res.body, where).not.toMatch(CLICKHOUSE_TEXT);
          for (const m of markers) expect(res.body, where).not.toContain(m);
          if (res.statusCode === 400) expect(res.json().code, where).toBe('AT_ERR_BAD_REQUEST');
          // A 200 must be empty, except where the parameter does not filter rows (format: the export
          // of the route's unfiltered data; field/limit are enums/bounds and never 200 here).
          if (
            res.statusCode === 200 &&
            p !== 'format' &&
            !(['glob', 'resource', 'destination'].includes(p) && value === encodeURIComponent('**'))
          ) {
            expect(isEmptyAnswer(res.body, String(res.headers['content-type'] ?? '')), where).toBe(true);
          }
        }
      }
    },
  );

  it.each(PAYLOADS)('%s as a path parameter (task, alert id): 400 or 404', async (_d, value) => {
    for (const url of [`/v1/tasks/${value}`, `/v1/tasks/${value}/export`, `/v1/alerts/${value}`]) {
      const res = await s.app.inject({ url, headers: bearer(s.keys.analyst) });
      expect([400, 404], `${url.slice(0, 80)}: ${res.body.slice(0, 200)}`).toContain(res.statusCode);
      expect(res.body).not.toMatch(CLICKHOUSE_TEXT);
    }
  });

  it('nested and repeated parameters are refused, not merged', async () => {
    for (const q of [
      'agent[$ne]=x',
      'agent=planner&agent=worker',
      'task[0]=a&task[1]=b',
      `${'a['.repeat(500)}=1`,
    ]) {
      const res = await s.app.inject({ url: `/v1/events?${q}`, headers: bearer(s.keys.analyst) });
      expect(res.statusCode, q).toBe(400);
    }
  });
});
