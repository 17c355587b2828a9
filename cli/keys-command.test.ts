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
