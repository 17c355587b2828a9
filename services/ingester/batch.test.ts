import { describe, expect, it } from 'vitest';
import { syntheticMessage } from '../../bench/ingest-events.js';
import { Batch, type Source } from './batch.js';
import { decodeMessage } from './decode.js';

function add(b: Batch, partition: number, offset: number, i: number, now = 0): void {
  const value = Buffer.from(syntheticMessage('b', i).value);
  const d = decodeMessage(value, 0);
  if (!d.ok) throw new Error(d.detail);
  const s: Source = { topic: 't', partition, offset: String(offset), key: null, value };
  b.addRow(d.row, s, now);
}

describe('Batch', () => {
  it('commits the next offset of every partition it covers', () => {
    const b = new Batch();
    add(b, 0, 10, 1);
    add(b, 0, 11, 2);
    add(b, 3, 7, 3);
    b.addDead(
      {
        value: null,
        key: null,
        reason: 'x',
        code: 'AT_ERR_MESSAGE_POISON',
        source: { topic: 't', partition: 0, offset: '12' },
      },
      { topic: 't', partition: 0, offset: '12', key: null, value: null },
      0,
    );
    expect(b.size).toBe(4);
    expect(b.commits()).toEqual([
      { topic: 't', partition: 0, offset: '13' },
      { topic: 't', partition: 3, offset: '8' },
    ]);
  });

  it('is due by rows, bytes or age', () => {
    const limits = { maxRows: 2, maxBytes: 1_000_000, intervalMs: 100 };
    const b = new Batch();
    expect(b.isDue(1_000, limits)).toBe(false);
    add(b, 0, 1, 1, 1_000);
    expect(b.isDue(1_050, limits)).toBe(false);
    expect(b.isDue(1_100, limits)).toBe(true);
    add(b, 0, 2, 2, 1_000);
    expect(b.isDue(1_000, limits)).toBe(true);
    expect(b.isDue(1_000, { ...limits, maxRows: 10, maxBytes: b.bytes })).toBe(true);
  });

  it('derives the same token for the same content and a different one otherwise', () => {
    const a = new Batch();
    const b = new Batch();
    const c = new Batch();
    for (const x of [a, b]) {
      add(x, 0, 1, 1);
      add(x, 1, 5, 2);
    }
    add(c, 0, 1, 1);
    add(c, 1, 5, 3);
    expect(a.token()).toBe(b.token());
    expect(a.token()).not.toBe(c.token());
  });
});
