import { ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { insertIsolatingRefused } from './refused-rows.js';

// A fake ClickHouse that refuses rows whose value is negative, naming the first one (by its
// index in the insert) in the message, as the ingester's input-mode SQL does.
function fake(opts: { names: boolean }) {
  const calls: { rows: number[]; token: string }[] = [];
  const stored: number[] = [];
  const attempt = async (rows: readonly number[], token: string) => {
    calls.push({ rows: [...rows], token });
    const bad = rows.findIndex((r) => r < 0);
    if (bad >= 0) {
      const message = opts.names ? `Cannot parse string 'row ${bad}' as UInt8` : 'Cannot parse input';
      throw new ClickHouseError({ message, code: '6', type: 'CANNOT_PARSE_TEXT' });
    }
    stored.push(...rows);
  };
  const locate = (err: ClickHouseError) => {
    const m = /'row (\d+)'/.exec(err.message);
    return m ? Number(m[1]) : undefined;
  };
  return { calls, stored, attempt, locate };
}

describe('insertIsolatingRefused', () => {
  const rows = Array.from({ length: 64 }, (_, i) => (i === 10 || i === 40 ? -i : i));

  it('refuses the rows an error names and stores the rest, in few inserts', async () => {
    const f = fake({ names: true });
    const refused = await insertIsolatingRefused(rows, 'tok', f.attempt, f.locate);
    expect(refused.map((r) => r.index)).toEqual([10, 40]);
    expect(refused[0]!.clickhouseCode).toBe('6');
    expect(f.stored.sort((a, b) => a - b)).toEqual(rows.filter((r) => r >= 0));
    // Whole, then [0,10) ok, (10,64) fails at 40-11, then its two sides.
    expect(f.calls).toHaveLength(5);
    expect(new Set(f.calls.map((c) => c.token)).size).toBe(5);
  });

  it('bisects when the error names no row, with the same result', async () => {
    const f = fake({ names: false });
    const refused = await insertIsolatingRefused(rows, 'tok', f.attempt, f.locate);
    expect(refused.map((r) => r.index)).toEqual([10, 40]);
    expect(f.stored.sort((a, b) => a - b)).toEqual(rows.filter((r) => r >= 0));
    expect(f.calls.length).toBeGreaterThan(10);
  });

  it('sub-insert tokens depend only on the position and size of the part', async () => {
    const a = fake({ names: true });
    const b = fake({ names: true });
    await insertIsolatingRefused(rows, 'tok', a.attempt, a.locate);
    await insertIsolatingRefused(rows, 'tok', b.attempt, b.locate);
    expect(b.calls.map((c) => c.token)).toEqual(a.calls.map((c) => c.token));
    expect(a.calls[1]!.token).toBe('tok:0+10');
  });
});
