import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey, KeyStore, mintKey } from './keys.js';
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
    expect(text).not.toContain(a.key.split('_')[2]);
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
