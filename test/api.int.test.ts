import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../services/api/app.js';
import { routeTableOf } from '../services/api/route-table.js';
import { buildAlert } from '../services/detector/rules/alert.js';
import { createClickHouse } from '../services/platform/clickhouse/client.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { KeyStore, mintKey } from '../services/platform/keys/index.js';
import { bearer, type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// Contract tests of every query API endpoint on the real ClickHouse with seeded data (see
// helpers/api-seed.ts): what each answers, for its tenant only.

let s: Seeded;
beforeAll(async () => {
  s = await seedApi(uniqueName('it_api'));
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

const get = async (url: string, key = s.keys.analyst) => s.app.inject({ url, headers: bearer(key) });
const json = async (url: string, key?: string) => {
  const r = await get(url, key);
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

describe('GET /v1/events (agent history)', () => {
  it('pages newest first with an opaque keyset cursor: every event once, stable order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await json(`/v1/events?agent=planner&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.events.map((e: { event_id: string }) => e.event_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    const planner = s.events.acme.filter((e) => e.agent.id === 'planner');
    expect(seen.sort()).toEqual(planner.map((e) => e.event_id).sort());
    expect(pages).toBe(Math.floor(planner.length / 7) + 1);
    expect((await json('/v1/events/count?agent=planner')).count).toBe(planner.length);
  });

  it('returns events rebuilt as sent, only of the key’s tenant', async () => {
    const page = await json('/v1/events?task=acme-parent&limit=1000');
    expect(page.events.every((e: { tenant: string }) => e.tenant === 'acme')).toBe(true);
    const declared = page.events.find((e: { type: string }) => e.type === 'task.declared');
    expect(declared.data.intent).toBe('reconcile November invoices');
    expect(declared.agent.workload_identity).toBe('spiffe://acme/planner');
    const globex = await json('/v1/events?task=acme-parent', s.keys.globex);
    expect(globex.events).toEqual([]);
  });

  it.each([
    [
      'workload_identity=spiffe://acme/planner',
      (e: E) => e.agent.workload_identity === 'spiffe://acme/planner',
    ],
    ['tool=http.post', (e: E) => e.type === 'action' && e.data.tool === 'http.post'],
    ['operation=write', (e: E) => e.type === 'action' && e.data.operation === 'write'],
    [
      'resource=erp:invoices/2026-11-*',
      (e: E) => e.type === 'action' && /^erp:invoices\/2026-11-[^/]*$/.test(e.data.resource ?? ''),
    ],
    [
      'destination=https://*.evil.example/**',
      (e: E) => e.type === 'action' && (e.data.destination ?? '').includes('evil'),
    ],
    ['outcome=ok&type=action', (e: E) => e.type === 'action'],
    ['data_class=pii', (e: E) => e.type === 'action' && e.data.data_classes.includes('pii')],
    [
      'from=2026-11-01T10:00:03Z&to=2026-11-01T10:00:06Z',
      (e: E) => inRange(e.occurred_at, '2026-11-01T10:00:03Z', '2026-11-01T10:00:06Z'),
    ],
  ])('filters by %s (count and page agree with the seed)', async (q, pred) => {
    const want = (s.events.acme as unknown as E[]).filter(pred).length;
    expect(want).toBeGreaterThan(0);
    expect((await json(`/v1/events/count?${q}`)).count).toBe(want);
    expect((await json(`/v1/events?${q}&limit=1000`)).events).toHaveLength(want);
  });

  it('filters by alert rule: the events alerts of that rule name as evidence', async () => {
    const page = await json('/v1/events?alert_rule=AT-EGR-001');
    expect(page.events.map((e: E) => e.event_id).sort()).toEqual(['acme-parent.3', s.egressEventId].sort());
  });
});

type E = (typeof s.events.acme)[number] & {
  data: Record<string, never> & {
    resource?: string;
    destination?: string;
    tool?: string;
    operation?: string;
    data_classes: string[];
  };
};
const inRange = (t: string, from: string, to: string) =>
  t >= new Date(from).toISOString() && t < new Date(to).toISOString();

describe('GET /v1/resources (who touched it)', () => {
  it('groups the actions on a resource glob by agent and task', async () => {
    const r = await json('/v1/resources?glob=erp:invoices/2026-11-*');
    const byAgent = Object.fromEntries(
      r.agents.map((a: { agent_id: string; tasks: Array<{ task_id: string; actions: number }> }) => [
        a.agent_id,
        Object.fromEntries(a.tasks.map((t) => [t.task_id, t.actions])),
      ]),
    );
    expect(byAgent).toEqual({
      planner: { 'acme-parent': 5 },
      worker: { 'acme-child-ok': 3, 'acme-child-wide': 2 },
    });
  });
  it('searches destinations, and another tenant sees only its own', async () => {
    const r = await json('/v1/resources?field=destination&glob=https://paste.evil.example/**', s.keys.globex);
    expect(r.agents.map((a: { tasks: Array<{ task_id: string }> }) => a.tasks[0]!.task_id)).toEqual([
      'globex-parent',
    ]);
  });
});

describe('GET /v1/tasks/:task (timeline)', () => {
  it('reconstructs the task: intent, scope, who declared it, changes, approvals, credentials', async () => {
    const t = await json('/v1/tasks/acme-parent?tenant=acme');
    expect(t.declared).toMatchObject({
      intent: 'reconcile November invoices',
      declared_by: { id: 'alice@acme.example' },
    });
    expect(t.scope_changes).toHaveLength(1);
    expect(t.scope_changes[0]).toMatchObject({ approved: true, approval: { approver: 'bob@acme.example' } });
    const [ap] = t.approvals;
    expect(ap).toMatchObject({
      approval_id: 'ap-1',
      decision: 'granted',
      requested: { context: 'fix a typo in invoice 3' },
    });
    expect(ap.used_by.map((u: { seq: number }) => u.seq)).toEqual([10]);
    const [cred] = t.credentials;
    expect(cred.used_by).toHaveLength(6);
    expect(cred.revoked).not.toBeNull();
  });

  it('marks each action in scope or with the rules it broke and the scope element it left', async () => {
    const t = await json('/v1/tasks/acme-parent');
    const marks = t.events.filter((e: { mark?: unknown }) => e.mark);
    const egress = marks.find((e: { event_id: string }) => e.event_id === s.egressEventId);
    expect(egress.mark.in_scope).toBe(false);
    expect(egress.mark.rules).toEqual(['AT-EGR-001']);
    expect(egress.mark.left_scope.map((l: { element: string }) => l.element)).toContain('scope.egress');
    expect(marks.find((e: { seq: number }) => e.seq === 4).mark).toEqual({
      in_scope: true,
      rules: [],
      evidence_of: [],
      left_scope: [],
      risk_signals: [],
    });
    // An in-scope read that is only earlier evidence of an alert stays in scope.
    const evidenceOnly = marks.filter(
      (e: { mark: { evidence_of: string[] } }) => e.mark.evidence_of.length > 0,
    );
    for (const e of evidenceOnly)
      expect(e.mark.in_scope, `seq ${e.seq}`).toBe(
        e.mark.left_scope.length === 0 && e.mark.rules.length === 0,
      );
    expect(t.events.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(t.alerts.map((a: { alert_id: string }) => a.alert_id).sort()).toEqual(
      [s.alerts.egress, s.alerts.egress2].sort(),
    );
  });

  it('shows the delegation tree with each child’s subset verdict, and a child its parent', async () => {
    const t = await json('/v1/tasks/acme-parent');
    const kids = Object.fromEntries(t.delegation.children.map((c: { task_id: string }) => [c.task_id, c]));
    expect(kids['acme-child-ok']).toMatchObject({ subset: true, agent_id: 'worker' });
    expect(kids['acme-child-wide'].subset).toBe(false);
    expect(kids['acme-child-wide'].widenings.length).toBeGreaterThan(0);
    const c = await json('/v1/tasks/acme-child-ok');
    expect(c.delegation.parent).toMatchObject({ task_id: 'acme-parent', subset: true });
  });

  it('verifies the chain server-side: verified, a gap, a tampered event', async () => {
    expect((await json('/v1/tasks/acme-parent')).chain).toMatchObject({
      status: 'verified',
      ok: true,
      ended: true,
    });
    const gap = (await json('/v1/tasks/acme-gap')).chain;
    expect(gap).toMatchObject({ status: 'incomplete', gaps: [{ from: 3, to: 3 }] });
    expect(gap.sentence).toContain('1 event is missing (seq 3)');
    const tampered = (await json('/v1/tasks/acme-tampered')).chain;
    expect(tampered).toMatchObject({ status: 'tampered', altered: [3] });
    expect(tampered.sentence).toMatch(/TAMPERED.*seq 3 does not match/);
  });

  it('a task longer than the timeline shows: the first events in full, the chain over all', async () => {
    const k = mintKey('acme', 'short', 'analyst');
    const short = await buildApi({
      config: { API_MAX_PAGE: 100, API_METRICS_TOKEN: undefined, API_TIMELINE_MAX_EVENTS: 10 },
      keys: new KeyStore([k.record], 'api'),
      read: createReadLayer({ client: s.ch, database: s.db, caller: 'api-test' }),
    });
    const t = (await short.inject({ url: '/v1/tasks/acme-many', headers: bearer(k.key) })).json();
    await short.close();
    expect(t.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(t.summary).toMatchObject({ events: 41, events_shown: 10 });
    expect(t.chain).toMatchObject({ status: 'verified', events: 41, last_seq: 41 });
  });

  it('is a 404 for an unknown task, another tenant’s task and a tenant that is not the key’s', async () => {
    for (const [url, key] of [
      ['/v1/tasks/nope', s.keys.analyst],
      ['/v1/tasks/acme-parent', s.keys.globex],
      ['/v1/tasks/acme-parent?tenant=globex', s.keys.analyst],
    ] as const) {
      const r = await get(url, key);
      expect(r.statusCode).toBe(404);
      expect(r.body).not.toContain('reconcile');
    }
  });
});

describe('alerts', () => {
  it('lists with filters and keyset pages, newest first', async () => {
    const all = await json('/v1/alerts?limit=1');
    expect(all.alerts).toHaveLength(1);
    const second = await json(`/v1/alerts?limit=1&cursor=${all.next_cursor}`);
    expect(second.alerts[0].created_at < all.alerts[0].created_at).toBe(true);
    expect(
      (await json('/v1/alerts?severity=critical')).alerts.map((a: { alert_id: string }) => a.alert_id),
    ).toEqual([s.alerts.egress2]);
    expect(
      (await json('/v1/alerts?rule=AT-DEL-001&task=acme-child-wide&agent=worker&status=acknowledged')).alerts,
    ).toHaveLength(1);
    expect((await json('/v1/alerts?from=2026-11-01T10:00:13.600Z')).alerts).toHaveLength(2);
    expect(
      (await json('/v1/alerts', s.keys.globex)).alerts.map((a: { alert_id: string }) => a.alert_id),
    ).toEqual([s.alerts.globex]);
  });

  it('gets one with its evidence events inlined and its deliveries', async () => {
    const a = await json(`/v1/alerts/${s.alerts.egress2}`);
    expect(a.alert).toMatchObject({ rule_id: 'AT-EGR-001', dedup_key: s.alerts.dedupKey });
    expect(a.evidence.map((e: { event_id: string }) => e.event_id)).toEqual([
      'acme-parent.3',
      s.egressEventId,
    ]);
    const d = await json(`/v1/alerts/${s.alerts.egress}`);
    expect(d.deliveries.map((x: { attempt: number; status: string }) => [x.attempt, x.status])).toEqual([
      [1, 'failed'],
      [2, 'delivered'],
    ]);
    expect((await get(`/v1/alerts/${s.alerts.globex}`)).statusCode).toBe(404);
  });

  it('shows the current status and who changed it and why; status filters by it', async () => {
    const a = await json(`/v1/alerts/${s.alerts.acknowledged}`);
    expect(a.alert.status).toBe('acknowledged');
    expect(a.status_history).toEqual([
      expect.objectContaining({
        type: 'alert.acknowledged',
        by: { key_id: 'abcdefabcdef', role: 'responder' },
        reason: 'looking into the wide delegation',
      }),
    ]);
    const ids = async (q: string) =>
      (await json(`/v1/alerts?${q}`)).alerts.map((x: { alert_id: string }) => x.alert_id);
    expect(await ids('status=acknowledged')).toEqual([s.alerts.acknowledged]);
    expect(await ids('status=firing')).not.toContain(s.alerts.acknowledged);
    expect((await json('/v1/alerts?status=acknowledged')).alerts[0].status).toBe('acknowledged');
    const t = await json('/v1/tasks/acme-child-wide');
    expect(t.alerts[0].status).toBe('acknowledged');
    expect(await ids('status=acknowledged&limit=5')).toEqual([s.alerts.acknowledged]);
    expect((await json('/v1/alerts?status=acknowledged', s.keys.globex)).alerts).toEqual([]);
  });

  it('groups by dedup key', async () => {
    const g = await json('/v1/alerts/groups');
    const egress = g.groups.find((x: { dedup_key: string }) => x.dedup_key === s.alerts.dedupKey);
    expect(egress).toMatchObject({ alerts: 2, severity: 'critical', latest_alert_id: s.alerts.egress2 });
    expect(g.groups).toHaveLength(2);
  });
});

describe('exports (streamed)', () => {
  it('exports a history query as NDJSON and CSV', async () => {
    const nd = await get('/v1/events/export?agent=bulk-bot');
    expect(nd.headers['content-type']).toContain('application/x-ndjson');
    const lines = nd.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(41);
    expect(nd.trailers['x-agenttrail-rows']).toBe('41');
    const csv = await s.app.inject({
      url: '/v1/events/export?agent=bulk-bot',
      headers: { ...bearer(s.keys.analyst), accept: 'text/csv' },
    });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.trim().split('\r\n')).toHaveLength(42);
  });

  it('exports a task in seq order with the chain verdict as last line and trailers', async () => {
    const r = await get('/v1/tasks/acme-tampered/export');
    const lines = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, -1).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.at(-1).chain_verdict).toMatchObject({ status: 'tampered', altered: [3] });
    expect(r.trailers['x-agenttrail-chain-status']).toBe('tampered');
    const csv = await get('/v1/tasks/acme-gap/export?format=csv');
    expect(csv.body.trim().split('\r\n').at(-1)).toMatch(/^# chain_verdict: incomplete: /);
    expect((await get('/v1/tasks/acme-gap/export', s.keys.globex)).statusCode).toBe(404);
  });
});

describe('the alert link', () => {
  it('the link the detector builds opens this timeline (one format, tenant URL-encoded)', async () => {
    const event = s.events.acme.find((e) => e.event_id === s.egressEventId)!;
    const meta = {
      id: 'AT-EGR-001',
      severity: 'high' as const,
      title: 't',
      explanation: 'x',
      frameworks: [],
    };
    const alert = buildAlert({
      meta,
      event,
      evidence: [event.event_id],
      vars: {},
      createdAtMs: Date.now(),
      linkBaseUrl: 'https://trail.example/',
    });
    expect(alert.link).toBe('https://trail.example/v1/tasks/acme-parent?tenant=acme');
    const u = new URL(alert.link!);
    const t = await json(`${u.pathname}${u.search}`);
    expect(t.task_id).toBe('acme-parent');
    // The alerter's fallback format redirects to it.
    const r = await s.app.inject('/tasks/acme/acme-parent');
    expect([r.statusCode, r.headers.location]).toEqual([308, `${u.pathname}${u.search}`]);
  });
});

describe('service routes', () => {
  it('ClickHouse not answering is a 503 in our words (never its text), exports included', async () => {
    const k = mintKey('acme', 'down', 'analyst');
    const client = createClickHouse(
      {
        CLICKHOUSE_URL: 'http://127.0.0.1:9',
        CLICKHOUSE_DATABASE: 'agenttrail',
        CLICKHOUSE_USER: 'default',
        CLICKHOUSE_PASSWORD: '',
      },
      'api',
      undefined,
      pino({ level: 'silent' }),
    );
    const a = await buildApi({
      config: { API_MAX_PAGE: 500, API_METRICS_TOKEN: undefined },
      keys: new KeyStore([k.record], 'api'),
      read: createReadLayer({ client, database: 'agenttrail', caller: 'test' }),
    });
    for (const url of ['/v1/events', '/v1/events/export', '/v1/tasks/t1', '/v1/alerts']) {
      const r = await a.inject({ url, headers: bearer(k.key) });
      expect(r.statusCode, url).toBe(503);
      expect(r.json().code).toBe('AT_ERR_CLICKHOUSE_UNAVAILABLE');
      expect(r.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:9/);
      expect(r.headers['retry-after']).toBe('5');
    }
    await client.close();
  });

  it('documents every route in /openapi.json', async () => {
    const doc = (await s.app.inject('/openapi.json')).json();
    for (const r of routeTableOf(s.app)) {
      const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
    }
    expect((await s.app.inject('/readyz')).json()).toEqual({ ok: true });
  });
});
