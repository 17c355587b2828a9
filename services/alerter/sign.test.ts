import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './sign.js';

const secret = 'whsec_test';
const body = JSON.stringify({ hello: 'world' });
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('webhook signatures', () => {
  it('matches the documented algorithm, computed independently', () => {
    const header = signatureHeader(secret, body, now);
    const t = Math.floor(now / 1000);
    const hex = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=${t},v1=${hex}`);
  });

  it('verifies an untouched body within the window', () => {
    const header = signatureHeader(secret, body, now);
    expect(verifySignature(secret, header, body, { now: now + 60_000 })).toEqual({
      ok: true,
      timestamp: now / 1000,
    });
    expect(verifySignature(secret, header, Buffer.from(body), { now }).ok).toBe(true);
  });

  it('rejects a tampered body, a wrong secret, an old or future timestamp', () => {
    const header = signatureHeader(secret, body, now);
    expect(verifySignature(secret, header, body.replace('world', 'w0rld'), { now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature('other', header, body, { now }).ok).toBe(false);
    expect(verifySignature(secret, header, body, { now: now + 301_000 })).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifySignature(secret, header, body, { now: now - 301_000 }).ok).toBe(false);
    expect(verifySignature(secret, header, body, { now: now + 20_000, toleranceS: 10 }).ok).toBe(false);
  });

  it('rejects a replayed signature under a fresh timestamp', () => {
    const header = signatureHeader(secret, body, now);
    const v1 = header.split(',v1=')[1];
    const t2 = Math.floor(now / 1000) + 100;
    expect(verifySignature(secret, `t=${t2},v1=${v1}`, body, { now: now + 100_000 }).ok).toBe(false);
  });

  it('accepts any one valid v1 (rotation) and rejects malformed headers', () => {
    const header = signatureHeader(secret, body, now);
    const rotated = header.replace('v1=', `v1=${'0'.repeat(64)},v1=`);
    expect(verifySignature(secret, rotated, body, { now }).ok).toBe(true);
    for (const bad of [undefined, '', 't=abc,v1=00', `v1=${'a'.repeat(64)}`, 't=1']) {
      expect(verifySignature(secret, bad, body, { now })).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
