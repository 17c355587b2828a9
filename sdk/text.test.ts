import { describe, expect, it } from 'vitest';
import { wellFormed } from './test-helpers.js';
import { isWellFormed, toWellFormed, truncate } from './text.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
// 1-, 2-, 3- and 4-byte code points (the last one a surrogate pair in UTF-16).
const MIXED = 'aé€😀'.repeat(8);

describe('truncate', () => {
  it('returns text that fits unchanged, and marks a cut with …', () => {
    expect(truncate('short', { maxLength: 5 })).toBe('short');
    expect(truncate('abcdefgh', { maxLength: 5 })).toBe('abcd…');
    expect(truncate('abcdefgh', { maxBytes: 6 })).toBe('abc…');
    expect(truncate('abcdefgh', { maxLength: 5 }, '')).toBe('abcde');
  });

  it('never splits a surrogate pair, at any length limit', () => {
    for (let max = 0; max <= MIXED.length + 1; max++) {
      const out = truncate(MIXED, { maxLength: max });
      expect(wellFormed(out), `maxLength ${max}: ${JSON.stringify(out)}`).toBe(true);
      expect(out.length).toBeLessThanOrEqual(max);
    }
  });

  it('cuts by UTF-8 bytes on a code point boundary, keeping as much as fits', () => {
    for (let max = 0; max <= utf8(MIXED) + 1; max++) {
      const out = truncate(MIXED, { maxBytes: max });
      expect(wellFormed(out), `maxBytes ${max}`).toBe(true);
      expect(utf8(out)).toBeLessThanOrEqual(max);
      if (out !== MIXED && out.length > 1) {
        // One more code point would not have fitted.
        const kept = out.slice(0, -1);
        const next = String.fromCodePoint(MIXED.codePointAt(kept.length)!);
        expect(utf8(kept + next) + utf8('…')).toBeGreaterThan(max);
      }
    }
  });

  it('applies both limits together', () => {
    const out = truncate('😀'.repeat(100), { maxLength: 50, maxBytes: 30 });
    expect(out).toBe(`${'😀'.repeat(6)}…`);
  });
});

describe('toWellFormed', () => {
  it('replaces lone surrogates with U+FFFD and keeps pairs', () => {
    expect(toWellFormed('erp:invoices/\ud800')).toBe('erp:invoices/\ufffd');
    expect(toWellFormed('\udc00x\ud83d\ude00\ud83d')).toBe('\ufffdx😀\ufffd');
    expect(isWellFormed('a😀')).toBe(true);
    expect(isWellFormed('a\ud800b')).toBe(false);
  });
});
