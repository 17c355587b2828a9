import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertsCommand } from '../cli/alerts-command.js';
import type { Command } from '../cli/command.js';
import { exportCommand } from '../cli/export-command.js';
import { historyCommand } from '../cli/history-command.js';
import { resourcesCommand } from '../cli/resources-command.js';
import { timelineCommand } from '../cli/timeline-command.js';
import { verifyCommand } from '../cli/verify-command.js';
import { type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, testEndpoints, uniqueName } from './helpers/stack.js';

// The investigation CLI on the real stack with the API tests' seed (helpers/api-seed.ts): every
// command run in process (`.run(argv)`, stdout and stderr captured) in both modes — against the
// API over HTTP with a key, and straight at ClickHouse with --tenant — which must answer alike.

let s: Seeded;
let api: string;
let direct: string[];
const saved = { db: process.env.CLICKHOUSE_DATABASE, url: process.env.CLICKHOUSE_URL };
const dir = mkdtempSync(join(tmpdir(), 'at-cli-'));

beforeAll(async () => {
  s = await seedApi(uniqueName('it_cli'), { alertStatus: true });
  api = await s.app.listen({ host: '127.0.0.1', port: 0 });
  // Direct mode reads CLICKHOUSE_* like every service.
  process.env.CLICKHOUSE_URL = testEndpoints().clickhouseUrl;
  process.env.CLICKHOUSE_DATABASE = s.db;
  direct = ['--tenant', 'acme'];
});
afterAll(async () => {
  process.env.CLICKHOUSE_DATABASE = saved.db;
  process.env.CLICKHOUSE_URL = saved.url;
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function run(cmd: Command, argv: string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
    return true;
  });
  try {
    const code = await cmd.run(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const viaApi = (key = s.keys.analyst) => ['--api', api, '--key', key];
const modes = () =>
  [
    ['api', viaApi()],
    ['direct', direct],
  ] as const;

function noKeys(r: Ran): void {
  for (const k of Object.values(s.keys)) {
    expect(r.out).not.toContain(k);
    expect(r.err).not.toContain(k);
  }
}

describe('both modes answer alike', () => {
  it('history: every page of a task, and the count', async () => {
    const answers: unknown[] = [];
    for (const [, conn] of modes()) {
      const r = await run(historyCommand, [
        ...conn,
        '--task',
        'acme-parent',
        '--limit',
        '4',
        '--all',
        '--json',
      ]);
      expect(r.code, r.err).toBe(0);
      const page = JSON.parse(r.out);
      expect(page.next_cursor).toBeNull();
      answers.push(page);
      const n = await run(historyCommand, [...conn, '--agent', 'planner', '--count']);
      expect(n.out.trim()).toBe(String(s.events.acme.filter((e) => e.agent.id === 'planner').length));
    }
    expect(answers[0]).toEqual(answers[1]);
    const want = s.events.acme.filter((e) => e.task_id === 'acme-parent').length;
    expect((answers[0] as { events: unknown[] }).events).toHaveLength(want);
  });

  it('history: a human table, one page with the cursor to the next', async () => {
    for (const [, conn] of modes()) {
      const r = await run(historyCommand, [...conn, '--tool', 'http.post', '--limit', '1']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^OCCURRED_AT +AGENT +TASK +SEQ +TYPE +WHAT\n/);
      expect(r.out).toContain('http.post transfer https://paste.evil.example/drop');
    }
  });

  it('timeline: the same answer, rendered with scope marks, delegation, alerts and the verdict', async () => {
    const [a, d] = [
      await run(timelineCommand, [...viaApi(), 'acme-parent', '--json']),
      await run(timelineCommand, [...direct, 'acme-parent', '--json']),
    ];
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out)).toEqual(JSON.parse(d.out));
    const h = await run(timelineCommand, [...direct, 'acme-parent']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('TIMELINE  task acme-parent  (tenant acme)');
    expect(h.out).toContain('intent     "reconcile November invoices"');
    expect(h.out).toMatch(/✗ #\d+ .*http\.post transfer/);
    expect(h.out).toContain('approval   ap-1 granted by bob@acme.example');
    expect(h.out).toContain('child      acme-child-wide');
    expect(h.out).toMatch(/acme-child-wide.*WIDER/);
    expect(h.out).toContain('AT-EGR-001');
    expect(h.out).toContain('integrity  VERIFIED');
  });

  it('resources: who touched a glob, grouped by agent and task', async () => {
    for (const [, conn] of modes()) {
      const r = await run(resourcesCommand, [...conn, 'erp:invoices/2026-11-*']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('10 actions on resource erp:invoices/2026-11-* by 2 agents');
      expect(r.out).toMatch(/worker +acme-child-ok +3/);
      const dest = await run(resourcesCommand, [
        ...conn,
        '--destination',
        'https://paste.evil.example/**',
        '--json',
      ]);
      expect(JSON.parse(dest.out).agents.map((x: { agent_id: string }) => x.agent_id)).toEqual(['planner']);
    }
  });

  it('alerts: list, groups and show, the tenant’s own only', async () => {
    for (const [, conn] of modes()) {
      const l = await run(alertsCommand, [...conn, '--json']);
      expect(l.code, l.err).toBe(0);
      const ids = JSON.parse(l.out).alerts.map((a: { alert_id: string }) => a.alert_id);
      expect(ids.sort()).toEqual([s.alerts.egress, s.alerts.egress2, s.alerts.acknowledged].sort());
      const table = await run(alertsCommand, ['list', ...conn, '--status', 'acknowledged']);
      expect(table.out).toContain(s.alerts.acknowledged);
      expect(table.out).not.toContain(s.alerts.egress);
      const g = await run(alertsCommand, ['groups', ...conn]);
      expect(g.out).toMatch(/AT-EGR-001\|acme\|acme-parent +2 +critical/);
      const show = await run(alertsCommand, ['show', s.alerts.egress, ...conn]);
      expect(show.code).toBe(0);
      expect(show.out).toContain(`ALERT  ${s.alerts.egress}  AT-EGR-001 high`);
      expect(show.out).toContain('evidence (1):');
      expect(show.out).toContain('deliveries (2):');
      const other = await run(alertsCommand, ['show', s.alerts.globex, ...conn]);
      expect(other.code).toBe(4);
    }
  });
});

describe('verify', () => {
  it.each([
    ['acme-parent', 0, 'VERIFIED'],
    ['acme-tampered', 1, 'TAMPERED'],
    ['acme-gap', 1, 'INCOMPLETE'],
  ])('%s exits %i (%s) in both modes', async (task, code, label) => {
    for (const [, conn] of modes()) {
      const r = await run(verifyCommand, [...conn, task]);
      expect(r.code, r.err).toBe(code);
      expect(r.out).toContain(`integrity  ${label}: Task ${task}: ${label}.`);
    }
  });

  it('--require-ended fails an open task; --json is the verdict; unknown and other-tenant tasks exit 4', async () => {
    expect((await run(verifyCommand, [...direct, 'acme-many'])).code).toBe(0);
    expect((await run(verifyCommand, [...direct, 'acme-many', '--require-ended'])).code).toBe(1);
    const j = await run(verifyCommand, [...viaApi(), 'acme-tampered', '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ status: 'tampered', ok: false, altered: [3] });
    expect((await run(verifyCommand, [...viaApi(), 'globex-parent'])).code).toBe(4);
    expect((await run(verifyCommand, [...direct, 'no-such-task'])).code).toBe(4);
  });
});

describe('export', () => {
  it('a task, to a file, with its verdict as the last line and on stderr', async () => {
    const n = s.events.acme.filter((e) => e.task_id === 'acme-tampered').length;
    for (const [name, conn] of modes()) {
      const file = join(dir, `tampered-${name}.ndjson`);
      const r = await run(exportCommand, ['task', 'acme-tampered', ...conn, '--output', file]);
      expect(r.code, r.err).toBe(0);
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(n + 1);
      expect(JSON.parse(lines[n]!).chain_verdict.status).toBe('tampered');
      expect(r.err).toContain(`export: ${n} rows in`);
      expect(r.err).toContain('Task acme-tampered: TAMPERED.');
    }
  });

  it('a history query as CSV to stdout, every row once', async () => {
    const want = s.events.acme.filter((e) => e.agent.id === 'planner').length;
    for (const [, conn] of modes()) {
      const r = await run(exportCommand, [...conn, '--agent', 'planner', '--format', 'csv', '--quiet']);
      expect(r.code, r.err).toBe(0);
      expect(r.out.trimEnd().split('\r\n')).toHaveLength(want + 1);
      expect(r.err).toBe('');
    }
  });
});

describe('acknowledge and resolve', () => {
  it('need a responder key on the API; the status history then shows who and why', async () => {
    const id = s.alerts.egress2;
    const low = await run(alertsCommand, ['ack', id, '--reason', 'looking', ...viaApi()]);
    expect(low.code).toBe(5);
    const d = await run(alertsCommand, ['ack', id, '--reason', 'looking', ...direct]);
    expect(d.code).toBe(2);
    expect(d.err).toContain('--api URL --key <responder key>');
    const noReason = await run(alertsCommand, ['resolve', id, ...viaApi(s.keys.responder)]);
    expect(noReason.code).toBe(2);

    const ack = await run(alertsCommand, ['ack', id, '--reason', 'on it', ...viaApi(s.keys.responder)]);
    expect(ack.code, ack.err).toBe(0);
    expect(ack.out).toContain(`alert ${id} is acknowledged`);
    const res = await run(alertsCommand, [
      'resolve',
      id,
      '--reason',
      'cred revoked',
      ...viaApi(s.keys.responder),
    ]);
    expect(res.out).toContain(`alert ${id} is resolved`);
    const again = await run(alertsCommand, ['resolve', id, '--reason', 'twice', ...viaApi(s.keys.responder)]);
    expect(again.code).toBe(0);
    // Acknowledging a resolved alert is the API's 409.
    expect(
      (await run(alertsCommand, ['ack', id, '--reason', 'late', ...viaApi(s.keys.responder)])).code,
    ).toBe(1);

    const show = await run(alertsCommand, ['show', id, ...direct]);
    expect(show.out).toMatch(/alert\.acknowledged +by key \w+ \(responder\): on it/);
    expect(show.out).toMatch(/alert\.resolved +by key \w+ \(responder\): cred revoked/);
    for (const r of [low, d, ack, res, again, show]) noKeys(r);
  });
});

describe('usage and reachability', () => {
  it('exit 2 on bad usage, 3 when nothing answers, 5 on a bad key; never printing the key', async () => {
    expect((await run(historyCommand, [])).code).toBe(2);
    expect((await run(historyCommand, ['--bogus', ...direct])).code).toBe(2);
    expect((await run(historyCommand, [...viaApi(), ...direct])).code).toBe(2);
    expect((await run(historyCommand, [...direct, '--since', 'soon'])).code).toBe(2);
    // A value the API refuses (its 400) is a usage error too.
    expect((await run(historyCommand, [...direct, '--operation', 'steal'])).code).toBe(2);
    expect((await run(timelineCommand, [...direct])).code).toBe(2);
    const down = await run(historyCommand, ['--api', 'http://127.0.0.1:1', '--key', s.keys.analyst]);
    expect(down.code).toBe(3);
    expect(down.err).toContain('cannot reach the API at http://127.0.0.1:1');
    // A base URL with a trailing slash (or a proxy path) is joined, not resolved.
    expect((await run(historyCommand, ['--api', `${api}/`, '--key', s.keys.analyst, '--count'])).code).toBe(
      0,
    );
    const collector = await run(historyCommand, viaApi(s.keys.collector));
    expect(collector.code).toBe(5);
    for (const r of [down, collector]) noKeys(r);
    const help = await run(verifyCommand, ['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('1  verify: the chain is broken or incomplete');
  });
});
