import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../../scenarios/index.js';
import { eventHash } from '../../../schemas/chain.js';
import type { AgentEvent } from '../../../schemas/index.js';
import { validateEvent } from '../../../schemas/validate.js';
import { toRow } from '../../ingester/rows.js';
import type { StoredEventRow } from '../../platform/clickhouse/event-row.js';
import { rowToEventInput } from '../../platform/clickhouse/read/index.js';
import { Serial } from './serial.js';
import { TickClock } from './tick-clock.js';

/** What ClickHouse hands back for a row the ingester wrote (JSONEachRow output). */
function asStored(e: AgentEvent): StoredEventRow {
  const row = toRow(e, 0);
  return { ...row, seq: String(row.seq), data: JSON.stringify(row.data) } as StoredEventRow;
}

describe('stored events', () => {
  it('rebuild every scenario event exactly (hash included)', () => {
    for (const s of generateScenarios({ id: 'st' }))
      for (const e of s.events) {
        const r = validateEvent(rowToEventInput(asStored(e)));
        expect(r.ok && r.value).toEqual(e);
      }
  });

  it('recover an occurred_at written without milliseconds from the stored hash', () => {
    const [e] = generateScenarios({ id: 'ms' })[0]!.events;
    const raw = { ...e!, occurred_at: e!.occurred_at.replace(/\.\d{3}Z$/, 'Z') } as AgentEvent;
    raw.hash = eventHash(raw as unknown as Record<string, unknown>);
    const rebuilt = rowToEventInput(asStored(raw));
    expect(rebuilt.occurred_at).toBe(raw.occurred_at);
    expect(eventHash(rebuilt)).toBe(raw.hash);
  });
});

describe('TickClock', () => {
  it('follows event time, advanced by the wall time since the last event', () => {
    let wall = 1_000_000;
    const c = new TickClock(() => wall);
    expect(c.now()).toBeUndefined();
    c.observe(50);
    expect(c.now()).toBe(50);
    wall += 30;
    expect(c.now()).toBe(80);
    c.observe(40); // an older event does not move it back
    expect(c.now()).toBe(50);
  });
});

describe('Serial', () => {
  it('runs jobs one at a time, in order, and survives a failed job', async () => {
    const s = new Serial();
    const log: string[] = [];
    const slow = s.run(async () => {
      log.push('a+');
      await new Promise((r) => setTimeout(r, 20));
      log.push('a-');
    });
    const bad = s.run(() => {
      throw new Error('boom');
    });
    const c = s.run(() => log.push('c'));
    await expect(bad).rejects.toThrow('boom');
    await Promise.all([slow, c]);
    expect(log).toEqual(['a+', 'a-', 'c']);
  });
});
