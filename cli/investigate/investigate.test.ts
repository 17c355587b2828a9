import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../scenarios/builder.js';
import type { AgentEvent } from '../../schemas/index.js';
import { assembleTimeline } from '../../services/api/timeline/assemble.js';
import { verdictOf } from '../export-command.js';
import { attackTasks, consoleUrlOf, investigateHints } from './demo-hints.js';
import { apiError, CliError, EXIT, exitForStatus } from './exit.js';
import { filterQuery, HISTORY_FILTERS, parseDuration, positiveInt, timeQuery } from './filters.js';
import { ExportProgress } from './progress.js';
import { renderAlerts, renderEvents } from './render.js';
import { chooseMode, redact } from './run.js';
import { clean, table } from './table.js';
import { renderTimeline } from './timeline-render.js';
import { withQuery } from './transport.js';

// Argument parsing and rendering of the investigation commands, without any I/O.

const usage = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as CliError).exitCode;
  }
  throw new Error('did not throw');
};

describe('filters', () => {
  it('maps --kebab flags to the API parameters, only those given', () => {
    const q = filterQuery(
      { agent: 'bot', 'workload-identity': 'spiffe://a/b', 'data-class': 'pii', limit: '5' },
      HISTORY_FILTERS,
    );
    expect(q).toEqual({ agent: 'bot', workload_identity: 'spiffe://a/b', data_class: 'pii' });
  });

  it('turns --since into from, relative to now; refuses --since with --from', () => {
    const now = Date.parse('2026-11-01T12:00:00Z');
    expect(timeQuery({ since: '1h30m', to: '2026-11-01T12:00:00Z' }, now)).toEqual({
      from: '2026-11-01T10:30:00.000Z',
      to: '2026-11-01T12:00:00Z',
    });
    expect(usage(() => timeQuery({ since: '1h', from: 'x' }, now))).toBe(EXIT.usage);
  });

  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('parses the duration %s', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(['', 'soon', '1w', '0m', '-1h', '1h 5m'])('refuses the duration %j', (s) =>
    expect(usage(() => parseDuration(s))).toBe(EXIT.usage),
  );

  it('bounds --limit', () => {
    expect(positiveInt('10', 'limit', 1000)).toBe(10);
    expect(positiveInt(undefined, 'limit', 1000)).toBeUndefined();
    for (const bad of ['0', '1001', '1.5', 'ten'])
      expect(usage(() => positiveInt(bad, 'limit', 1000))).toBe(2);
  });
});

describe('withQuery', () => {
  it('encodes what was given and leaves out the rest', () => {
    expect(withQuery('/v1/events', { agent: 'a b', limit: 5, task: undefined })).toBe(
      '/v1/events?agent=a+b&limit=5',
    );
    expect(withQuery('/v1/resources', { glob: 's3://x/**&y=1' })).toBe(
      '/v1/resources?glob=s3%3A%2F%2Fx%2F**%26y%3D1',
    );
    expect(withQuery('/v1/alerts')).toBe('/v1/alerts');
  });
});

describe('chooseMode', () => {
  const key = `ata_${'a'.repeat(12)}_${'b'.repeat(43)}`;
  it('--api with --key, or from the environment', () => {
    expect(chooseMode({ api: 'http://x', key })).toEqual({ mode: 'api', url: 'http://x', key });
    expect(chooseMode({}, { AGENTTRAIL_API_URL: 'http://y', AGENTTRAIL_API_KEY: key })).toEqual({
      mode: 'api',
      url: 'http://y',
      key,
    });
  });
  it('--tenant alone is direct, even with the API in the environment', () => {
    expect(chooseMode({ tenant: 'acme' }, { AGENTTRAIL_API_URL: 'http://y' })).toEqual({
      mode: 'direct',
      tenant: 'acme',
    });
  });
  it.each([
    [{}, {}],
    [{ api: 'http://x' }, {}],
    [{ api: 'http://x', key, tenant: 'acme' }, {}],
    [{ key, tenant: 'acme' }, {}],
    [{ tenant: 'Not A Tenant' }, {}],
  ])('is a usage error for %j', (flags, env) => expect(usage(() => chooseMode(flags, env))).toBe(EXIT.usage));
});

describe('exit codes and messages', () => {
  it('maps API answers to the documented codes', () => {
    expect([400, 401, 403, 404, 409, 500, 503].map(exitForStatus)).toEqual([2, 5, 5, 4, 1, 1, 3]);
    const e = apiError(404, '{"code":"AT_ERR_NOT_FOUND","message":"no task t"}');
    expect([e.exitCode, e.message]).toEqual([4, 'AT_ERR_NOT_FOUND: no task t']);
    expect(apiError(503, '{"code":"X","message":"retry"}', 'ClickHouse h').message).toBe(
      'X: retry [ClickHouse h]',
    );
  });
  it('never lets a key through', () => {
    const k = `ata_0123456789ab_${'x'.repeat(43)}`;
    expect(redact(`bad key ${k}.`)).toBe('bad key <key>.');
  });
});

describe('tables', () => {
  it('aligns columns, truncates wide ones, and escapes control characters', () => {
    const t = table(
      ['A', 'B', 'C'],
      [
        ['x', 'long'.repeat(20), 'end'],
        ['yy', '\u001b[2Jevil', 'last'],
      ],
      10,
    );
    // The escape is shown as text (and counts as such for the width), never sent raw.
    expect(t).toBe(['A   B           C', 'x   longlongl…  end', 'yy  \\u001b[2J…  last', ''].join('\n'));
    expect(clean('a\nb\u0007')).toBe('a\\u000ab\\u0007');
  });
});

function task(): AgentEvent[] {
  const s = new TaskStream({ tenant: 'acme', taskId: 't1', agentId: 'bot' });
  s.declared(
    { allow: [{ tools: ['erp.*'], operations: ['read'] }] },
    { intent: 'read invoices', by: 'alice@x' },
  );
  s.action({ tool: 'erp.invoices', operation: 'read', resource: 'erp:invoices/1' });
  s.action({ tool: 'erp.invoices', operation: 'delete', resource: 'erp:invoices/1' });
  s.ended();
  return s.events();
}

describe('rendering', () => {
  it('renders a timeline: declaration, each event, where it left scope, alerts, the verdict', () => {
    const evs = task();
    const t = assembleTimeline({
      tenant: 'acme',
      taskId: 't1',
      events: evs.map((e) => ({ event: e as never, valid: e })),
      unreadable: 0,
      alerts: [
        {
          alert_id: 'a'.repeat(32),
          rule_id: 'AT-SCOPE-001',
          severity: 'high',
          title: 'Action outside scope',
          explanation: 'delete is not allowed\nsecond line',
          evidence: [evs[2]!.event_id],
          scope_element: 'scope.allow',
          status: 'firing',
          created_at: '2026-11-01T10:00:00.000Z',
          dedup_key: 'k',
        },
      ],
      riskSignals: [
        {
          event_id: evs[1]!.event_id,
          rule_id: 'AT-BASE-002',
          score: 2,
          occurred_at: evs[1]!.occurred_at,
          explanation: 'first use of tool erp.invoices',
        },
      ],
      children: [],
    });
    const text = renderTimeline(t).join('\n');
    expect(text).toContain('TIMELINE  task t1  (tenant acme)');
    expect(text).toContain('risk       score 2 from 1 baseline signal(s), marked below');
    expect(text).toMatch(/#2 .*\n {10}↳ risk signal {2}AT-BASE-002 \+2: first use of tool erp\.invoices/);
    expect(text).toContain('declared   by human alice@x');
    expect(text).toContain('intent     "read invoices"');
    expect(text).toMatch(/ {3}#2 +\S+ +action +erp\.invoices read erp:invoices\/1 {2}→ ok/);
    expect(text).toMatch(/✗ #3 .*erp\.invoices delete/);
    expect(text).toMatch(/↳ LEFT SCOPE here: scope\.allow.*\[AT-SCOPE-001\]/);
    expect(text).toContain('AT-SCOPE-001 high     firing       Action outside scope  [evidence #3]');
    expect(text).toContain('      second line');
    expect(text).toContain('record     4 events stored, seq 1..4, gap-free, task ended');
    expect(text).toContain('integrity  VERIFIED: Task t1: VERIFIED.');
  });

  it('renders a gap and tampering in the verdict lines', () => {
    const evs = task().filter((e) => e.seq !== 2);
    const t = assembleTimeline({
      tenant: 'acme',
      taskId: 't1',
      events: evs.map((e) => ({ event: e as never, valid: e })),
      unreadable: 0,
      alerts: [],
      children: [],
    });
    const text = renderTimeline(t).join('\n');
    expect(text).toContain('GAPS at 2');
    expect(text).toContain('integrity  INCOMPLETE:');
  });

  it('renders history and alert tables', () => {
    const evs = task();
    const h = renderEvents(evs as never);
    expect(h.split('\n')[0]).toMatch(/^OCCURRED_AT +AGENT +TASK +SEQ +TYPE +WHAT$/);
    expect(h).toContain('declared by human alice@x');
    expect(renderEvents([])).toBe('no events match\n');
    expect(
      renderAlerts([{ alert_id: 'a1', severity: 'high', status: 'firing', rule_id: 'R', task_id: 't1' }]),
    ).toMatch(
      /^CREATED_AT +ALERT_ID +SEVERITY +STATUS +RULE +AGENT +TASK +TITLE\n +a1 +high +firing +R +t1\n$/,
    );
  });
});

describe('export', () => {
  it('finds the chain verdict line of NDJSON and CSV task exports', () => {
    const v = { status: 'tampered', sentence: 'Task t: TAMPERED.' };
    expect(verdictOf(`{"seq":1}\n${JSON.stringify({ chain_verdict: { ...v, ok: false } })}\n`)).toEqual(v);
    expect(verdictOf('a,b\r\n# chain_verdict: tampered: Task t: TAMPERED.\r\n')).toEqual(v);
    expect(verdictOf('{"seq":1}\n{"seq":2}\n')).toBeUndefined();
  });

  it('reports progress once a second, and a summary', () => {
    let now = 0;
    const lines: string[] = [];
    const p = new ExportProgress((s) => lines.push(s), { tty: false, quiet: false, now: () => now });
    p.chunk(Buffer.from('a\nb\n'));
    now = 1500;
    p.chunk(Buffer.from('c\n'));
    p.done(3, 'out.ndjson');
    expect(lines).toEqual(['export: 3 rows, 0.0 MB, 2 rows/s\n', 'export: 3 rows in 1.5 s → out.ndjson\n']);
    expect(p.lines).toBe(3);
  });
});

describe('demo hints', () => {
  it('prints the direct commands first (they outlive the demo), then the API form and links', () => {
    const lines = investigateHints({
      clickhouseUrl: 'http://127.0.0.1:8123',
      database: 'agenttrail_demo',
      tenant: 'demo',
      apiUrl: 'http://127.0.0.1:4321',
      attacks: [{ name: 'token-to-delete', taskId: 'run.token-to-delete' }],
    });
    expect(lines).toContain(
      '  export CLICKHOUSE_URL=http://127.0.0.1:8123 CLICKHOUSE_DATABASE=agenttrail_demo',
    );
    expect(lines).toContain(
      '  node bin/agenttrail.mjs timeline --tenant demo run.token-to-delete   # token-to-delete',
    );
    expect(lines.some((l) => l.includes('verify --tenant demo run.token-to-delete'))).toBe(true);
    expect(lines).toContain('  http://127.0.0.1:4321/v1/tasks/run.token-to-delete?tenant=demo');
    expect(lines.join('\n')).not.toMatch(/ata_/);
  });

  it("prints the console URL of the first attack task, for this run's API and for one on :8090", () => {
    const lines = investigateHints({
      clickhouseUrl: 'http://127.0.0.1:8123',
      database: 'agenttrail_demo',
      tenant: 'demo',
      apiUrl: 'http://127.0.0.1:4321',
      attacks: attackTasks([
        { name: 'fix-flaky-test', taskId: 'run.fix', kind: 'benign' },
        { name: 'token-to-delete', taskId: 'run/token to delete', kind: 'attack' },
        { name: 'secret-to-paste', taskId: 'run.secret', kind: 'attack' },
      ]),
    });
    const url = consoleUrlOf(lines, 'http://127.0.0.1:4321');
    expect(url).toBe('http://127.0.0.1:4321/console/#/tasks/run%2Ftoken%20to%20delete?tenant=demo');
    expect(consoleUrlOf(lines, 'http://127.0.0.1:8090')).toBe(
      'http://127.0.0.1:8090/console/#/tasks/run%2Ftoken%20to%20delete?tenant=demo',
    );
    expect(lines.filter((l) => l.includes('/console/'))).toHaveLength(2);
    expect(() => consoleUrlOf(lines, 'http://127.0.0.1:9999')).toThrow(/no console URL/);
  });
});
