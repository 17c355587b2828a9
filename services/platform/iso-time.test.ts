import { describe, expect, it } from 'vitest';
import { parseIsoMs } from './iso-time.js';

describe('parseIsoMs equals Date.parse', () => {
  it('on 20,000 timestamps across four centuries, with 0–3 fraction digits', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let i = 0; i < 20_000; i++) {
      const iso = new Date(Math.floor(rand() * 4 * 3.15e12) - 3.15e12 * 1.5).toISOString();
      for (const s of [
        iso,
        iso.replace(/\.\d{3}Z$/, 'Z'),
        iso.replace(/(\.\d)\d\dZ$/, '$1Z'),
        iso.replace(/(\.\d\d)\dZ$/, '$1Z'),
      ])
        expect(parseIsoMs(s), s).toBe(Date.parse(s));
    }
  });

  it.each([
    '2024-02-29T12:00:00Z',
    '2023-02-29T12:00:00Z',
    '2026-04-31T00:00:00.000Z',
    '2026-12-31T23:59:59.999Z',
    '2000-01-01T00:00:00.000Z',
    '1970-01-01T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-01-10T24:00:00Z',
    '2026-01-10T23:60:00Z',
    '2026-01-10T23:00:60Z',
    '2026-01-10T10:00:00.Z',
    '2026-01-10T10:00:00.1234Z',
    '2026-01-10T10:00:00+01:00',
    '2026-01-10 10:00:00Z',
    '2026-01-1xT10:00:00Z',
    '2026-01-1xT10:00:00.000Z',
    '2026-02-30T10:00:00.000Z',
    '2026-01-10T10:00:00.0a0Z',
    ' 026-01-10T10:00:00.000Z',
    '2026-01-10T10:00:00.000+',
    'not a date',
    '',
  ])('%j', (s) => {
    expect(Object.is(parseIsoMs(s), Date.parse(s))).toBe(true);
  });
});
