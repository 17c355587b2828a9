import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey, KeyStore, mintKey, readKeysFile, revokeKey } from './keys.js';
import { TokenBuckets } from './rate-limit.js';

const dir = mkdtempSync(join(tmpdir(), 'agenttrail-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API keys', () => {
  it('createKey stores only a hash (mode 0600) and the store verifies the key for its tenant', () => {
    const file = join(dir, 'keys.json');
    const a = createKey(file, 'acme', 'ci collector');
    const b = createKey(file, 'globex');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(a.key);
    // The secret part (after `atk_<id>_`); base64url, so it may itself hold `_`.
    expect(text).not.toContain(a.key.slice('atk_'.length + 12 + 1));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const store = KeyStore.fromFile(file);
    expect(store.verify(a.key)).toEqual({ keyId: a.record.id, tenant: 'acme' });
    expect(store.verify(b.key)?.tenant).toBe('globex');
    expect(store.verify(`${a.key.slice(0, -1)}x`)).toBeUndefined();
    expect(store.verify('')).toBeUndefined();
  });

  it('ignores revoked keys', () => {
    const k = mintKey('acme');
    expect(new KeyStore([{ ...k.record, revoked_at: '2026-01-01T00:00:00Z' }]).verify(k.key)).toBeUndefined();
  });

  it('revokeKey keeps the record (for the audit trail) with revoked_at; the key no longer verifies', () => {
    const file = join(dir, 'revoke.json');
    const a = createKey(file, 'acme');
    const b = createKey(file, 'acme');
    const res = revokeKey(file, a.record.id);
    expect(res.alreadyRevoked).toBe(false);
    expect(res.record.revoked_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const stored = readKeysFile(file).keys;
    expect(stored.map((k) => k.id)).toEqual([a.record.id, b.record.id]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const store = KeyStore.fromFile(file);
    expect(store.verify(a.key)).toBeUndefined();
    expect(store.verify(b.key)?.tenant).toBe('acme');
    // Again: nothing changes, and the caller is told.
    expect(revokeKey(file, a.record.id)).toMatchObject({ alreadyRevoked: true, record: res.record });
    expect(() => revokeKey(file, 'ffffffffffff')).toThrow(/no key ffffffffffff/);
  });

  it('replace() swaps the whole key set at once', () => {
    const a = mintKey('acme');
    const b = mintKey('globex');
    const store = new KeyStore([a.record]);
    store.replace([b.record, { ...a.record, revoked_at: '2026-01-01T00:00:00Z' }]);
    expect(store.size).toBe(1);
    expect(store.verify(a.key)).toBeUndefined();
    expect(store.verify(b.key)?.tenant).toBe('globex');
  });
});

describe('TokenBuckets', () => {
  it('spends events, refills at the rate, and says when to retry', () => {
    let now = 0;
    const b = new TokenBuckets(100, 200, () => now);
    expect(b.take('k', 200).ok).toBe(true);
    expect(b.take('k', 50)).toEqual({ ok: false, retryAfterS: 1 });
    expect(b.take('other', 200).ok).toBe(true);
    now = 500; // +50 tokens
    expect(b.take('k', 50).ok).toBe(true);
    expect(b.take('k', 150)).toEqual({ ok: false, retryAfterS: 2 });
  });
});
