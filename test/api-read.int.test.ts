import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadLayer, type ReadLayer } from '../services/platform/clickhouse/read/index.js';
import { type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// The read methods the query API added to the read layer, on the real engine (every event is
// stored twice, as a redelivery would): once per event, in order, for their tenant only.

let s: Seeded;
let read: ReadLayer;
beforeAll(async () => {
  s = await seedApi(uniqueName('it_api_read'));
  read = createReadLayer({ client: s.ch, database: s.db, caller: 'api-read-test' });
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

async function all<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

describe('read layer: the query API’s reads', () => {
  it('streamTask: one task in seq order, each event once, never another tenant’s', async () => {
    const rows = await all(read.events.streamTask('acme', 'acme-parent'));
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(await all(read.events.streamTask('globex', 'acme-parent'))).toEqual([]);
  });

  it('byIds: the named events once each, only of the tenant', async () => {
    const ids = ['acme-parent.3', s.egressEventId, 'globex-parent.3'];
    expect((await read.events.byIds('acme', ids)).map((r) => r.event_id).sort()).toEqual(
      ['acme-parent.3', s.egressEventId].sort(),
    );
    expect(await read.events.byIds('acme', [])).toEqual([]);
  });

  it('scopeEvents: only declared / scope changed / delegated / ended, per task, in seq order', async () => {
    const rows = await read.events.scopeEvents('acme', ['acme-parent', 'acme-child-ok', 'globex-parent']);
    expect(new Set(rows.map((r) => r.task_id))).toEqual(new Set(['acme-parent', 'acme-child-ok']));
    expect(new Set(rows.map((r) => r.type))).toEqual(
      new Set(['task.declared', 'task.scope_changed', 'task.delegated', 'task.ended']),
    );
    const parent = rows.filter((r) => r.task_id === 'acme-parent').map((r) => Number(r.seq));
    expect(parent).toEqual([...parent].sort((a, b) => a - b));
    expect(new Set(parent).size).toBe(parent.length);
  });

  it('alert groups by dedup key, with the worst severity and the newest alert', async () => {
    const groups = await read.alerts.groups('acme', {}, 10);
    const g = groups.find((x) => x.dedup_key === s.alerts.dedupKey)!;
    expect([Number(g.alerts), g.severity, g.latest_alert_id]).toEqual([2, 'critical', s.alerts.egress2]);
    expect((await read.alerts.groups('globex', {}, 10)).map((x) => x.dedup_key)).toEqual([
      'AT-EGR-001|globex|globex-parent',
    ]);
    // Filtered by severity (the aggregate's name once shadowed the column: ClickHouse refused it).
    const critical = await read.alerts.groups('acme', { severity: 'critical' }, 10);
    expect(critical.find((x) => x.dedup_key === s.alerts.dedupKey)?.alerts).toBeDefined();
    expect(critical.every((x) => x.severity === 'critical')).toBe(true);
  });

  it('the alert status filter means the current status (an acknowledge is only in alert_status)', async () => {
    const ids = async (status: string) =>
      (await read.alerts.list('acme', { status }, 10)).map((a) => a.alert_id);
    expect(await ids('acknowledged')).toEqual([s.alerts.acknowledged]);
    expect(await ids('firing')).not.toContain(s.alerts.acknowledged);
    expect(await read.alerts.list('globex', { status: 'acknowledged' }, 10)).toEqual([]);
  });
});
