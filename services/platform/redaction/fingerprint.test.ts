import { describe, expect, it } from 'vitest';
import { createFingerprinter, fingerprint } from './fingerprint.js';

describe('createFingerprinter', () => {
  it.each([
    ['a short string key', 'k'],
    ['a 64-byte key', 'x'.repeat(64)],
    ['a key longer than the block', 'y'.repeat(100)],
    ['a Buffer key', Buffer.from([0, 1, 2, 255])],
  ])('matches createHmac for %s', (_d, key) => {
    const fp = createFingerprinter(key);
    for (const v of ['', 'hunter2', 'ops@corp.io', 'é'.repeat(300)]) expect(fp(v)).toBe(fingerprint(key, v));
  });
});
