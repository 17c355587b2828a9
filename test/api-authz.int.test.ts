import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRole, ROLES, type Role } from '../services/api/roles.js';
import { type RouteEntry, routeTableOf } from '../services/api/route-table.js';
import { bearer, type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// The authorization matrix, generated from the app's own route table: every route × (no key,
// a collector key, another tenant's key, each role too low) → 401 / 403 / 404 and never a byte
// of the tenant's data. A route added later is in the table, so it is in this test.

let s: Seeded;
beforeAll(async () => {
  s = await seedApi(uniqueName('it_api_authz'), { alertStatus: true, keyAdmin: true });
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

/** Routes that need no key: they answer nothing of any tenant. */
const PUBLIC = [
  'GET /console',
  'GET /console/*',
  'GET /docs',
  'GET /healthz',
  'GET /openapi.json',
  'GET /readyz',
  'GET /tasks/:tenant/:task',
];

/** Text that only acme's data contains: its rows' tenant, identities, hashes and dedup keys. */
function acmeMarkers(): string[] {
  return [
    '"tenant":"acme"',
    'spiffe://acme/',
    'AT-EGR-001|acme|',
    ...s.events.acme.slice(0, 40).flatMap((e) => (e.hash ? [e.hash] : [])),
  ];
}

/** Values for required query parameters, by name (a new required one must be added here). */
const REQUIRED_QUERY: Record<string, string> = { glob: 'erp:**' };

/** A concrete URL for a route: path parameters filled with acme's real ids, required query too. */
function urlOf(r: RouteEntry): string {
  const path = r.url
    .replace(':task', 'acme-parent')
    .replace(':id', s.alerts.egress)
    .replace(':tenant', 'acme')
    .replace(':agent', 'planner')
    .replace(':key_id', s.spareKeyId!);
  const required = ((r.schema?.querystring as { required?: string[] } | undefined)?.required ?? []).map(
    (name) => {
      const v = REQUIRED_QUERY[name];
      if (v === undefined) throw new Error(`${r.url}: add a value for required query parameter '${name}'`);
      return `${name}=${encodeURIComponent(v)}`;
    },
  );
  return required.length ? `${path}?${required.join('&')}` : path;
}

/** A route's body: its schema's first example, else a reason (acknowledge/resolve). */
function bodyOf(r: RouteEntry | undefined): unknown {
  const examples = (r?.schema?.body as { examples?: unknown[] } | undefined)?.examples;
  return examples?.[0] ?? { reason: 'authorization matrix' };
}

async function call(method: string, url: string, headers: Record<string, string> = {}, route?: RouteEntry) {
  const body = method === 'GET' || method === 'HEAD' ? undefined : bodyOf(route);
  return s.app.inject({ method: method as 'GET', url, headers, ...(body ? { payload: body } : {}) });
}

const keyOfRole: Record<Role, () => string> = {
  analyst: () => s.keys.analyst,
  responder: () => s.keys.responder,
  admin: () => s.keys.admin,
};

describe('authorization matrix (every route in the route table)', () => {
  it('only the listed routes are public, and they answer no tenant data', async () => {
    const table = routeTableOf(s.app);
    expect(table.length).toBeGreaterThanOrEqual(15);
    expect(
      table
        .filter((r) => r.config.public)
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual([...PUBLIC].sort());
    for (const r of table.filter((x) => x.config.public)) {
      const res = await call(r.method, urlOf(r));
      for (const m of acmeMarkers()) expect(res.body, `${r.method} ${r.url}`).not.toContain(m);
    }
  });

  it('every guarded route: no key 401, collector key 401, other tenant 404/empty, role too low 403', async () => {
    const routes = routeTableOf(s.app).filter((r) => !r.config.public);
    const markers = acmeMarkers();
    const tried: string[] = [];
    const showsData: string[] = [];
    for (const r of routes) {
      const name = `${r.method} ${r.url}`;
      const url = urlOf(r);
      const need = (r.config.role ?? 'analyst') as Role;

      // Positive control: the tenant's own key of the right role reads data (so the 404s below
      // mean "not yours", not "wrong URL").
      const own = await call(r.method, url, bearer(keyOfRole[need]()), r);
      // (A 409 is the route's own answer: resolve ran before acknowledge; 201: a key created.)
      expect([200, 201, 409], `${name} own key: ${own.body.slice(0, 200)}`).toContain(own.statusCode);
      if (markers.some((m) => own.body.includes(m))) showsData.push(name);

      const none = await call(r.method, url, {}, r);
      expect(none.statusCode, `${name} without a key`).toBe(401);
      expect(none.json().code).toBe('AT_ERR_AUTH_MISSING');

      const collector = await call(r.method, url, bearer(s.keys.collector), r);
      expect(collector.statusCode, `${name} with a collector key`).toBe(401);

      const bad = await call(r.method, url, bearer(`${s.keys.analyst.slice(0, -2)}xx`), r);
      expect(bad.statusCode, `${name} with a forged key`).toBe(401);

      // globex's key is admin: the highest role still sees nothing of acme.
      const other = await call(r.method, url, bearer(s.keys.globex), r);
      // (201: globex's admin created a key of globex's own.)
      expect([200, 201, 404], `${name} with another tenant's key`).toContain(other.statusCode);
      for (const m of markers) expect(other.body, `${name} leaked ${m} to another tenant`).not.toContain(m);
      for (const v of Object.values(other.trailers ?? {}))
        for (const m of markers) expect(String(v)).not.toContain(m);

      for (const low of ROLES.filter((role) => !hasRole(role, need))) {
        const res = await call(r.method, url, bearer(keyOfRole[low]()), r);
        expect(res.statusCode, `${name} with role ${low}`).toBe(403);
        expect(res.json().code).toBe('AT_ERR_AUTH_FORBIDDEN');
        for (const m of markers) expect(res.body).not.toContain(m);
      }
      tried.push(name);
    }
    expect(tried).toHaveLength(routes.length);
    // The markers do find acme's data where acme's own key reads it: their absence above means something.
    expect(showsData).toEqual(
      expect.arrayContaining([
        'GET /v1/events',
        'GET /v1/tasks/:task',
        'GET /v1/alerts/:id',
        'GET /v1/tasks/:task/export',
        'GET /v1/agents/:agent/activity',
      ]),
    );
    expect(tried).toEqual(
      expect.arrayContaining([
        'GET /v1/events',
        'GET /v1/tasks/:task',
        'GET /metrics',
        'POST /v1/alerts/:id/acknowledge',
        'POST /v1/alerts/:id/resolve',
        'GET /v1/admin/keys',
        'POST /v1/admin/keys',
        'POST /v1/admin/keys/:key_id/revoke',
        'POST /v1/admin/rules/reload',
      ]),
    );
  });
});
