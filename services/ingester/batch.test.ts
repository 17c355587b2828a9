import { describe, expect, it } from 'vitest';
import { syntheticMessage } from '../../bench/ingest-events.js';
import { OffsetTracker } from '../platform/kafka/offsets.js';
import { Batch, type Source } from './batch.js';
import { decodeMessage } from './decode.js';

const tracker = new OffsetTracker('t');
const batch = () => new Batch(tracker.unit());

/** As the loop does: the row into the batch, its offset into the batch's unit. */
function add(b: Batch, partition: number, offset: number, i: number, now = 0, t = tracker): void {
  const value = Buffer.from(syntheticMessage('b', i).value);
  const d = decodeMessage(value, 0);
  if (!d.ok) throw new Error(d.detail);
  const s: Source = { topic: 't', partition, offset: String(offset), key: null, value };
  b.addRow(d.row, s, now);
  t.take(partition, s.offset, b.unit);
}

describe('Batch', () => {
  it('is committable, to the next offset of every partition it covers, once its unit is done', () => {
    const t = new OffsetTracker('t');
    const b = new Batch(t.unit());
    add(b, 0, 10, 1, 0, t);
    add(b, 0, 11, 2, 0, t);
    add(b, 3, 7, 3, 0, t);
    const dead = { topic: 't', partition: 0, offset: '12', key: null, value: null };
    b.addDead({ value: null, key: null, reason: 'x', code: 'AT_ERR_MESSAGE_POISON', source: dead }, dead, 0);
    t.take(0, '12', b.unit);
    expect(b.size).toBe(4);
    expect(t.committable()).toEqual([
      { topic: 't', partition: 0, offset: '10' },
      { topic: 't', partition: 3, offset: '7' },
    ]);
    b.unit.done();
    expect(t.committable()).toEqual([
      { topic: 't', partition: 0, offset: '13' },
      { topic: 't', partition: 3, offset: '8' },
    ]);
  });

  it('is due by rows, bytes or age', () => {
    const limits = { maxRows: 2, maxBytes: 1_000_000, intervalMs: 100 };
    const b = batch();
    expect(b.isDue(1_000, limits)).toBe(false);
    add(b, 0, 1, 1, 1_000);
    expect(b.isDue(1_050, limits)).toBe(false);
    expect(b.isDue(1_100, limits)).toBe(true);
    add(b, 0, 2, 2, 1_000);
    expect(b.isDue(1_000, limits)).toBe(true);
    expect(b.isDue(1_000, { ...limits, maxRows: 10, maxBytes: b.bytes })).toBe(true);
  });

  it('derives the same token for the same content and a different one otherwise', () => {
    // Each batch on a tracker of its own: the same offsets taken by two batches of one
    // process would be two units, not the same batch twice.
    const [a, b, c] = [0, 1, 2].map(() => new OffsetTracker('t')).map((t) => ({ t, b: new Batch(t.unit()) }));
    for (const x of [a!, b!]) {
      add(x.b, 0, 1, 1, 0, x.t);
      add(x.b, 1, 5, 2, 0, x.t);
    }
    add(c!.b, 0, 1, 1, 0, c!.t);
    add(c!.b, 1, 5, 3, 0, c!.t);
    expect(a!.b.token()).toBe(b!.b.token());
    expect(a!.b.token()).not.toBe(c!.b.token());
  });

  it('gives each raw message its source on demand, and counts it like a row', () => {
    const b = batch();
    const m = (offset: string) => ({
      key: Buffer.from('k'),
      value: Buffer.from(`{"o":${offset}}`),
      offset,
      timestamp: '5',
    });
    b.addRaw(m('7'), 't', 2, 1_000);
    b.addRaw(m('3'), 'u', 0, 2_000);
    expect(b.size).toBe(2);
    expect(b.rows).toBe(2);
    expect(b.bytes).toBe(14);
    expect(b.openedAt).toBe(1_000);
    expect(b.rawSource(1)).toEqual({
      topic: 'u',
      partition: 0,
      offset: '3',
      key: b.raws[1]!.key,
      value: b.raws[1]!.value,
    });
    expect(b.rawSource(0)).toMatchObject({ topic: 't', partition: 2, offset: '7' });
    expect(b.rawSource(0).value).toBe(b.raws[0]!.value);
  });
});
