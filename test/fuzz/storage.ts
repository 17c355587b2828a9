import type { ClickHouseClient } from '@clickhouse/client';
import { type Pipeline, storedIds } from './pipeline.js';

export { controlEvent } from './materialize.js';

// What both targets count and how they wait for ClickHouse: a run's events and controls are
// looked up after each insert the ingester completes, until all are there or the deadline.

export interface Tally {
  inputs: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  acceptedEvents: number;
  storedEvents: number;
  rejectedStored: number;
  controls: number;
  controlsStored: number;
  wedges: number;
}

export const tally = (): Tally => ({
  inputs: 0,
  s2xx: 0,
  s4xx: 0,
  s5xx: 0,
  acceptedEvents: 0,
  storedEvents: 0,
  rejectedStored: 0,
  controls: 0,
  controlsStored: 0,
  wedges: 0,
});

export interface Sent {
  id: string;
  /** When it was acknowledged by the gateway or Kafka (ms). */
  at: number;
}

/**
 * Poll until `done()` says so or `deadline` passes, waking on the pipeline's activity.
 * Returns whether it was done in time.
 */
export async function settle(
  pipeline: Pipeline,
  deadline: number,
  done: () => Promise<boolean>,
): Promise<boolean> {
  for (;;) {
    if (await done()) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await pipeline.activity(Math.min(200, left));
  }
}

export interface Waited {
  ok: boolean;
  missingEvents: string[];
  lateControls: string[];
  report: string;
}

/** Wait for `events` and `controls` to be stored; each control by its own `at + controlMs`. */
export async function waitStored(
  ch: ClickHouseClient,
  pipeline: Pipeline,
  events: string[],
  controls: Sent[],
  controlMs: number,
): Promise<Waited> {
  const seenAt = new Map<string, number>();
  const want = [...new Set([...events, ...controls.map((c) => c.id)])];
  const deadline = Math.max(Date.now(), ...controls.map((c) => c.at)) + controlMs;
  await settle(pipeline, deadline, async () => {
    const missing = want.filter((id) => !seenAt.has(id));
    if (missing.length === 0) return true;
    const now = Date.now();
    for (const id of await storedIds(ch, missing)) seenAt.set(id, now);
    return seenAt.size === want.length;
  });
  const missingEvents = events.filter((id) => !seenAt.has(id));
  const lateControls = controls
    .filter((c) => !((seenAt.get(c.id) ?? Infinity) <= c.at + controlMs))
    .map((c) => c.id);
  const ok = missingEvents.length === 0 && lateControls.length === 0;
  const report = ok
    ? ''
    : [
        missingEvents.length > 0 ? `accepted but not stored: ${missingEvents.slice(0, 10).join(', ')}` : '',
        lateControls.length > 0
          ? `wedge: control event(s) not stored within ${controlMs} ms: ${lateControls.join(', ')}`
          : '',
        pipelineState(pipeline),
      ]
        .filter(Boolean)
        .join('\n');
  return { ok, missingEvents, lateControls, report };
}

/** What the ingester said, for a failure report. */
export function pipelineState(p: Pipeline): string {
  const retried = p.retried.slice(-3).map((r) => `  ${r}`);
  return [
    `ingester: healthy=${p.healthy()}, fatal=${p.fatal.length > 0 ? String(p.fatal[0]) : 'none'}, inserts retried ${p.retried.length}×`,
    ...(retried.length > 0 ? ['last retried errors:', ...retried] : []),
    'log tail:',
    ...p
      .logTail()
      .slice(-8)
      .map((l) => `  ${l}`),
  ].join('\n');
}
