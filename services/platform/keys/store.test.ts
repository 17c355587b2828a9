import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey, KeyStore, mintKey } from './store.js';

// The two kinds of key never verify for each other, whatever file or store they end up in.

const dir = mkdtempSync(join(tmpdir(), 'agenttrail-key-kinds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('key kinds', () => {
  const collector = mintKey('acme', 'collector');
  const api = mintKey('acme', 'reader', 'analyst');

  it('an API key is ata_ with a role; a collector key atk_ without one', () => {
    expect(api.key).toMatch(/^ata_[0-9a-f]{12}_/);
    expect(api.record.role).toBe('analyst');
    expect(collector.key).toMatch(/^atk_[0-9a-f]{12}_/);
    expect(collector.record.role).toBeUndefined();
  });

  it('an API store verifies API keys (with their role) and never collector keys', () => {
    const store = new KeyStore([collector.record, api.record], 'api');
    expect(store.size).toBe(1);
    expect(store.verify(api.key)).toEqual({ keyId: api.record.id, tenant: 'acme', role: 'analyst' });
    expect(store.verify(collector.key)).toBeUndefined();
  });

  it('a collector store verifies collector keys and never API keys', () => {
    const store = new KeyStore([collector.record, api.record]);
    expect(store.size).toBe(1);
    expect(store.verify(collector.key)).toEqual({ keyId: collector.record.id, tenant: 'acme' });
    expect(store.verify(api.key)).toBeUndefined();
  });

  it('a key with the other prefix but a record id of this kind does not verify', () => {
    // Same id and secret, prefix swapped: the hash differs and the prefix is of the wrong kind.
    const swapped = collector.key.replace(/^atk_/, 'ata_');
    expect(new KeyStore([collector.record, api.record], 'api').verify(swapped)).toBeUndefined();
  });

  it('a keys file holds one kind: createKey refuses to mix them', () => {
    const file = join(dir, 'keys.json');
    createKey(file, 'acme');
    expect(() => createKey(file, 'acme', undefined, 'admin')).toThrow(/holds collector keys/);
    const apiFile = join(dir, 'api.json');
    createKey(apiFile, 'acme', undefined, 'responder');
    expect(() => createKey(apiFile, 'acme')).toThrow(/holds api keys/);
    expect(KeyStore.fromFile(apiFile, 'api').size).toBe(1);
  });
});
