import { parseArgs } from 'node:util';
import { type BacktestResult, runBacktest } from '../services/detector/io/backtest.js';
import { loadRulesFiles } from '../services/detector/io/rules-watcher.js';
import { readStoredEvents } from '../services/detector/io/stored-events.js';
import { DEFAULT_RULES_PATH } from '../services/detector/rules/default-rules.js';
import { createClickHouse } from '../services/platform/clickhouse/client.js';
import { clickhouseConfig, parseConfig } from '../services/platform/config.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail backtest [--rules FILE...] [--tenant T] [--from ISO] [--to ISO] [--json]

Run a rule set over the events stored in ClickHouse and report what would have fired.
Nothing is produced to Kafka or written to ClickHouse: nobody is paged.

Events are read in detector order (occurred_at, task_id, seq), one copy per event_id, into a
fresh detector (built-in checks + the rules given); open gaps are declared at the end.
Start --from at a point where tasks begin, or tasks declared earlier look undeclared.

  --rules FILE   rules file; repeat to merge several in order (default: rules/agenttrail_rules.yaml)
  --tenant T     only this tenant's events
  --from ISO     events that occurred at or after this time
  --to ISO       events that occurred before this time
  --json         one JSON document on stdout: { events, alerts, by_rule, invalid_rows }

ClickHouse is found through CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER and
CLICKHOUSE_PASSWORD. Progress goes to stderr.`;

export const backtestCommand: Command = {
  summary: 'run rules over stored events and report what would have fired (no paging)',
  async run(argv) {
    if (wantsHelp(argv)) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    let values: { rules?: string[]; tenant?: string; from?: string; to?: string; json?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          rules: { type: 'string', multiple: true },
          tenant: { type: 'string' },
          from: { type: 'string' },
          to: { type: 'string' },
          json: { type: 'boolean' },
        },
      }));
    } catch (err) {
      process.stderr.write(`agenttrail backtest: ${(err as Error).message}\n${HELP}\n`);
      return 2;
    }
    for (const key of ['from', 'to'] as const) {
      const v = values[key];
      if (v !== undefined && Number.isNaN(Date.parse(v))) {
        process.stderr.write(`agenttrail backtest: --${key} is not an ISO time: ${v}\n`);
        return 2;
      }
    }
    const rules = loadRulesFiles(values.rules ?? [DEFAULT_RULES_PATH]);
    if (!rules.ok) {
      for (const e of rules.errors)
        process.stderr.write(`${e.code} ${e.file}:${e.line ?? '?'} ${e.item ?? ''} ${e.message}\n`);
      return 1;
    }
    const config = parseConfig(clickhouseConfig);
    const clickhouse = createClickHouse(config, 'backtest');
    try {
      const started = Date.now();
      const read = readStoredEvents(clickhouse, config.CLICKHOUSE_DATABASE, {
        ...(values.tenant !== undefined ? { tenant: values.tenant } : {}),
        ...(values.from !== undefined ? { from: values.from } : {}),
        ...(values.to !== undefined ? { to: values.to } : {}),
      });
      const result = await runBacktest(read.events, {
        rules: rules.ruleSet,
        progressEvery: 100_000,
        onProgress: (n, a) =>
          process.stderr.write(
            `backtest: ${n} events, ${a} alerts, ${Math.round((Date.now() - started) / 1000)} s\n`,
          ),
      });
      if (read.invalid() > 0)
        process.stderr.write(
          `backtest: ${read.invalid()} stored rows did not rebuild into valid events (skipped)\n`,
        );
      process.stdout.write(
        values.json ? `${JSON.stringify(toJson(result, read.invalid()))}\n` : report(result),
      );
      return 0;
    } finally {
      await clickhouse.close();
    }
  },
};

function toJson(r: BacktestResult, invalid: number) {
  return { events: r.events, alerts: r.alerts, by_rule: r.byRule, invalid_rows: invalid };
}

function report(r: BacktestResult): string {
  const lines = [`${r.events} events, ${r.alerts.length} alerts would have fired`, ''];
  const titles = new Map(r.alerts.map((a) => [a.rule_id, `${a.severity.padEnd(8)} ${a.title}`]));
  const rules = Object.entries(r.byRule).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [id, n] of rules) lines.push(`${String(n).padStart(7)}  ${id.padEnd(12)} ${titles.get(id)}`);
  if (r.alerts.length > 0) lines.push('');
  for (const a of r.alerts)
    lines.push(
      `${a.occurred_at}  ${a.rule_id.padEnd(12)} ${a.tenant}/${a.task_id}  ${a.explanation.split('\n')[0]}`,
    );
  return `${lines.join('\n')}\n`;
}
