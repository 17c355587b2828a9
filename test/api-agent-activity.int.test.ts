import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStream } from '../scenarios/builder.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { bearer, type Seeded, START, seedApi } from './helpers/api-seed.js';
import { insertEvents } from './helpers/console-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// GET /v1/agents/:agent/activity (routes/agents.ts) and the read it is made of
// (read/agent-activity.ts, the materialised view agent_actions_per_minute), on the real engine:
// counts once per event however often it was stored, the agent's alerts in the span, the
// tenant's own data only, and parameters checked before anything is read.

let s: Seeded;
const minute = (m: number) => new Date(START + m * 60_000).toISOString();

beforeAll(async () => {
  s = await seedApi(uniqueName('t_console_activity'));
  // 'flaky': three active minutes (10:10, 10:12, 10:13), some actions failing, stored three times.
  const t = new TaskStream({
    tenant: 'acme',
    taskId: 'acme-flaky',
    agentId: 'flaky',
    startMs: START + 600_000,
  });
  t.declared({ allow: [{ tools: ['erp.*'] }] });
  for (let i = 0; i < 4; i++) t.action({ tool: 'erp.invoices', operation: 'read', resource: `erp:x/${i}` });
  t.action({ tool: 'erp.invoices', operation: 'read', outcome: 'error' }, { dtMs: 120_000 });
  t.action({ tool: 'erp.invoices', operation: 'read', outcome: 'denied' });
  t.action({ tool: 'erp.invoices', operation: 'read' }, { dtMs: 60_000 });
  t.ended();
  await insertEvents(s.db, t.events(), 3);
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

const get = (url: string, key = s.keys.analyst) => s.app.inject({ url, headers: bearer(key) });

describe('per-agent activity from the materialised view', () => {
  it("an agent's actions per minute, oldest first, each event once, with its alerts in the span", async () => {
    const r = await get('/v1/agents/planner/activity');
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ tenant: 'acme', agent: 'planner', more: false });
    // acme-parent: 6 actions in 10:00; acme-gap (4, seq 3 missing) and acme-tampered (5) in 10:01.
    // seedApi stored every event twice: counted once.
    expect(body.minutes).toEqual([
      { minute: minute(0), actions: 6, failures: 0 },
      { minute: minute(1), actions: 9, failures: 0 },
    ]);
    // The same count as the events themselves.
    const count = await get('/v1/events/count?agent=planner&type=action');
    expect(count.json().count).toBe(15);
    // planner's two egress alerts (10:00:12), not worker's delegation alert.
    expect(body.alerts.map((a: { alert_id: string }) => a.alert_id).sort()).toEqual(
      [s.alerts.egress, s.alerts.egress2].sort(),
    );
    expect(body.alerts[0]).toMatchObject({ rule_id: 'AT-EGR-001', task_id: 'acme-parent' });
    expect(body.alerts[0].occurred_at).toBe(new Date(START + 12_000).toISOString());
    // Only the fields of the schema (the response schema stops anything else).
    expect(Object.keys(body.alerts[0]).sort()).toEqual(
      ['alert_id', 'occurred_at', 'rule_id', 'severity', 'task_id', 'title'].sort(),
    );
  });

  it('failures counted, a triple delivery counted once, the latest minutes first kept, from/to', async () => {
    const all = (await get('/v1/agents/flaky/activity')).json();
    expect(all.minutes).toEqual([
      { minute: minute(10), actions: 4, failures: 0 },
      { minute: minute(12), actions: 2, failures: 2 },
      { minute: minute(13), actions: 1, failures: 0 },
    ]);
    expect(all.alerts).toEqual([]);
    const latest = (await get('/v1/agents/flaky/activity?minutes=2')).json();
    expect(latest.minutes.map((m: { minute: string }) => m.minute)).toEqual([minute(12), minute(13)]);
    expect(latest.more).toBe(true);
    const ranged = (
      await get(`/v1/agents/flaky/activity?from=${minute(11)}&to=${encodeURIComponent(minute(13))}`)
    ).json();
    expect(ranged.minutes).toEqual([{ minute: minute(12), actions: 2, failures: 2 }]);
    expect(ranged.more).toBe(false);
  });

  it("another tenant's key sees nothing of acme's: only its own agent of the same name, or nothing", async () => {
    const g = (await get('/v1/agents/planner/activity', s.keys.globex)).json();
    expect(g.tenant).toBe('globex');
    // globex's own planner: globex-parent 6 actions in 10:00, globex-gap 3 in 10:01.
    expect(g.minutes.map((m: { actions: number }) => m.actions)).toEqual([6, 3]);
    expect(g.alerts.map((a: { alert_id: string }) => a.alert_id)).toEqual([s.alerts.globex]);
    expect(JSON.stringify(g)).not.toMatch(/acme/);
    for (const agent of ['flaky', 'bulk-bot']) {
      const r = (await get(`/v1/agents/${agent}/activity`, s.keys.globex)).json();
      expect(r).toEqual({ tenant: 'globex', agent, minutes: [], more: false, alerts: [] });
    }
    const none = await s.app.inject({ url: '/v1/agents/planner/activity' });
    expect(none.statusCode).toBe(401);
  });

  it('parameters are checked before anything is read (400 naming them)', async () => {
    for (const q of [
      'minutes=0',
      'minutes=10081',
      'from=yesterday',
      'limit=5',
      `from=${minute(2)}&to=${minute(1)}`,
    ]) {
      const r = await get(`/v1/agents/planner/activity?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().code).toBe('AT_ERR_BAD_REQUEST');
    }
    expect((await get(`/v1/agents/${encodeURIComponent("x' OR 1=1")}/activity`)).statusCode).toBe(400);
  });

  it('the read needs a tenant and an agent', async () => {
    const read = createReadLayer({ client: s.ch, database: s.db, caller: 'activity-test' });
    await expect(read.activity.perMinute('', 'planner', {}, 10)).rejects.toThrow(/tenant/);
    await expect(read.activity.perMinute('acme', '', {}, 10)).rejects.toThrow(/agent/);
    const rows = await read.activity.perMinute('acme', 'bulk-bot', {}, 10);
    expect(rows.map((r) => Number(r.actions))).toEqual([40]);
  });
});
