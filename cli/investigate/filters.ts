import { CliError, EXIT } from './exit.js';
import type { Query } from './transport.js';

// Command-line filters to the API's query parameters: --kebab-case flags, the API's snake_case
// names, passed through unchanged (the API checks every value: a bad one is its 400, exit 2).
// --since is the CLI's only addition: "the last hour" without writing a timestamp.

export const HISTORY_FILTERS = [
  'agent',
  'workload-identity',
  'task',
  'type',
  'tool',
  'operation',
  'resource',
  'destination',
  'outcome',
  'data-class',
  'alert-rule',
] as const;

export const ALERT_FILTERS = ['severity', 'rule', 'agent', 'task', 'status', 'dedup-key'] as const;

export const TIME_FLAGS = ['from', 'to', 'since'] as const;

export const stringOptions = (names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, { type: 'string' as const }]));

export const HISTORY_FILTER_HELP = `filters (all must hold):
  --agent ID  --workload-identity ID  --task ID  --type EVENT_TYPE  --tool NAME
  --operation read|write|execute|delete|transfer|delegate|admin
  --resource GLOB  --destination GLOB   (* within a segment, ** across)
  --outcome ok|error|denied  --data-class CLASS  --alert-rule RULE_ID
  --from ISO  --to ISO  --since DURATION (30s, 15m, 1h, 7d: from that long ago)`;

/** `30s`, `15m`, `1h`, `7d` (or combined, `1h30m`) in milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s.trim());
  if (!m || s.trim() === '')
    throw new CliError(EXIT.usage, `--since is not a duration like 15m, 1h or 7d: ${s}`);
  const [d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  const ms = (((d * 24 + h) * 60 + min) * 60 + sec) * 1000;
  if (ms <= 0) throw new CliError(EXIT.usage, '--since must be longer than zero');
  return ms;
}

/** from/to, with --since turned into from (relative to `now`). */
export function timeQuery(v: Record<string, unknown>, now = Date.now()): Query {
  const q: Query = {};
  if (v.since !== undefined) {
    if (v.from !== undefined) throw new CliError(EXIT.usage, 'give --since or --from, not both');
    q.from = new Date(now - parseDuration(String(v.since))).toISOString();
  } else if (v.from !== undefined) q.from = String(v.from);
  if (v.to !== undefined) q.to = String(v.to);
  return q;
}

/** The named flags that were given, as API parameters (kebab → snake). */
export function filterQuery(v: Record<string, unknown>, names: readonly string[], now?: number): Query {
  const q: Query = {};
  for (const n of names) if (typeof v[n] === 'string') q[n.replace(/-/g, '_')] = v[n] as string;
  return { ...q, ...timeQuery(v, now) };
}

export function positiveInt(v: unknown, flag: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(EXIT.usage, `--${flag} must be a whole number from 1 to ${max}`);
  return n;
}
