import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createKey, KeyStore, readKeysFile } from '../services/gateway/keys.js';
import { keysCommand } from './keys-command.js';

const dir = mkdtempSync(join(tmpdir(), 'agenttrail-keys-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Run `agenttrail keys …` in-process, capturing what it prints. */
async function keys(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
  const code = await keysCommand.run(argv);
  vi.restoreAllMocks();
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('agenttrail keys revoke', () => {
  it('revokes a key by id; list shows it revoked; unknown ids fail', async () => {
    const file = join(dir, 'keys.json');
    const a = createKey(file, 'acme', 'old collector');
    const b = createKey(file, 'acme');

    const res = await keys('revoke', a.record.id, '--file', file);
    expect(res).toMatchObject({ code: 0, stdout: '' });
    expect(res.stderr).toContain(`revoked key ${a.record.id}`);
    expect(readKeysFile(file).keys.find((k) => k.id === a.record.id)?.revoked_at).toBeDefined();
    expect(KeyStore.fromFile(file).verify(a.key)).toBeUndefined();
    expect(KeyStore.fromFile(file).verify(b.key)?.tenant).toBe('acme');

    const list = await keys('list', '--file', file);
    expect(list.stdout).toMatch(new RegExp(`^${a.record.id}\\tacme\\told collector\\trevoked `, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^${b.record.id}\\tacme\\t\\tactive$`, 'm'));

    expect((await keys('revoke', a.record.id, '--file', file)).stderr).toContain('already revoked');
    const unknown = await keys('revoke', 'ffffffffffff', '--file', file);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no key ffffffffffff');
    expect((await keys('revoke', '--file', file)).code).toBe(2);
  });
});

describe('agenttrail keys create --role', () => {
  it('writes an API key with its role to the API keys file, never usable as a collector key', async () => {
    const file = join(dir, 'api-keys.json');
    const res = await keys('create', '--tenant', 'acme', '--role', 'responder', '--file', file);
    expect(res.code).toBe(0);
    const key = res.stdout.trim();
    expect(key).toMatch(/^ata_/);
    expect(res.stderr).toContain('API key (role responder)');
    expect(KeyStore.fromFile(file, 'api').verify(key)).toMatchObject({ tenant: 'acme', role: 'responder' });
    expect(KeyStore.fromFile(file).verify(key)).toBeUndefined();
    const list = await keys('list', '--file', file);
    expect(list.stdout).toMatch(/\tacme\t\tactive\tresponder$/m);
    expect((await keys('create', '--tenant', 'acme', '--role', 'root', '--file', file)).code).toBe(2);
  });

  it('defaults to API_KEYS_FILE for API keys and GATEWAY_KEYS_FILE for collector keys', async () => {
    const apiFile = join(dir, 'default-api.json');
    const gwFile = join(dir, 'default-gw.json');
    vi.stubEnv('API_KEYS_FILE', apiFile);
    vi.stubEnv('GATEWAY_KEYS_FILE', gwFile);
    try {
      expect((await keys('create', '--tenant', 'acme', '--role', 'analyst')).code).toBe(0);
      expect((await keys('create', '--tenant', 'acme')).code).toBe(0);
      expect(readKeysFile(apiFile).keys.map((k) => k.role)).toEqual(['analyst']);
      expect(readKeysFile(gwFile).keys.map((k) => k.role)).toEqual([undefined]);
      const id = readKeysFile(apiFile).keys[0]!.id;
      expect((await keys('revoke', id)).code).toBe(0);
      expect(readKeysFile(apiFile).keys[0]!.revoked_at).toBeDefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
