import type { Alert } from '../../../schemas/alert.js';
import type { AgentEvent } from '../../../schemas/events/index.js';
import { createDetector } from '../engine.js';
import type { RuleSet } from '../rules/sequence/types.js';
import type { DetectorStats } from '../stats.js';

// What a rule set would have raised over a stream of stored events: a fresh detector, the
// events in order, flush() at the end. No I/O here: nothing is produced or written.

export interface BacktestResult {
  events: number;
  alerts: Alert[];
  /** rule id → alerts raised. */
  byRule: Record<string, number>;
  stats: DetectorStats;
}

export interface BacktestOptions {
  rules: RuleSet;
  linkBaseUrl?: string;
  /** Called every `progressEvery` events. */
  onProgress?: (events: number, alerts: number) => void;
  progressEvery?: number;
}

/** Events between ticks: the live detector ticks on event time too (tick-clock.ts). */
const TICK_EVERY = 10_000;

export async function runBacktest(
  events: AsyncIterable<AgentEvent> | Iterable<AgentEvent>,
  opts: BacktestOptions,
): Promise<BacktestResult> {
  const detector = createDetector({
    rules: opts.rules,
    ...(opts.linkBaseUrl ? { config: { link_base_url: opts.linkBaseUrl } } : {}),
  });
  const alerts: Alert[] = [];
  let n = 0;
  let watermark = Number.NEGATIVE_INFINITY;
  const every = opts.progressEvery ?? 50_000;
  for await (const e of events) {
    for (const a of detector.process(e)) alerts.push(a);
    n++;
    const at = Date.parse(e.occurred_at);
    if (at > watermark) watermark = at;
    // Bounds memory on long histories (expired partial matches); open gaps wait for flush().
    if (n % TICK_EVERY === 0) for (const a of detector.tick(watermark)) alerts.push(a);
    if (opts.onProgress && n % every === 0) opts.onProgress(n, alerts.length);
  }
  for (const a of detector.flush()) alerts.push(a);
  const byRule: Record<string, number> = {};
  for (const a of alerts) byRule[a.rule_id] = (byRule[a.rule_id] ?? 0) + 1;
  return { events: n, alerts, byRule, stats: detector.stats() };
}
