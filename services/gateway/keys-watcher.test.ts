import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { createKey, KeyStore, revokeKey } from './keys.js';
import { type KeysWatcher, watchKeysFile } from './keys-watcher.js';
import { TEST_APP_CONFIG } from './testing.js';

// Keys change while the gateway runs: `keys create` and `keys revoke` take effect without a
// restart, and a bad keys file never replaces the keys in use.

const dir = mkdtempSync(join(tmpdir(), 'agenttrail-keys-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = TEST_APP_CONFIG;
const sink = { produce: async () => {}, ready: () => true };

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, errors: () => lines.filter((l) => l.level >= 50) };
}

const watchers: KeysWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
});

let n = 0;
function setup() {
  const file = join(dir, `keys-${++n}.json`);
  const first = createKey(file, 'acme', 'first');
  const keys = KeyStore.fromFile(file);
  const cap = capturingLogger();
  const watcher = watchKeysFile({ path: file, keys, log: cap.log, debounceMs: 20, pollMs: 100 });
  watchers.push(watcher);
  return { file, first, keys, watcher, ...cap };
}

const POLL = { timeout: 5_000, interval: 20 };

describe('keys file reload', () => {
  it('a key created while the gateway runs is accepted without a restart', async () => {
    const { file, keys } = setup();
    const app = await buildApp({ config: CONFIG, keys, sink });
    try {
      const later = createKey(file, 'globex', 'created while running');
      const get = () =>
        app.inject({
          method: 'GET',
          url: '/openapi.json',
          headers: { authorization: `Bearer ${later.key}` },
        });
      await expect.poll(async () => (await get()).statusCode, POLL).toBe(200);
      expect(keys.verify(later.key)).toEqual({ keyId: later.record.id, tenant: 'globex' });
    } finally {
      await app.close();
    }
  });

  it('a revoked key is refused with AT_ERR_AUTH_INVALID without a restart', async () => {
    const { file, first, keys } = setup();
    const other = createKey(file, 'acme', 'stays');
    const app = await buildApp({ config: CONFIG, keys, sink });
    try {
      const get = (key: string) =>
        app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${key}` } });
      await expect.poll(async () => (await get(other.key)).statusCode, POLL).toBe(200);
      expect((await get(first.key)).statusCode).toBe(200);

      revokeKey(file, first.record.id);
      await expect.poll(async () => (await get(first.key)).statusCode, POLL).toBe(401);
      expect((await get(first.key)).json()).toMatchObject({ code: 'AT_ERR_AUTH_INVALID' });
      expect((await get(other.key)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['not JSON', '{"version": 1, "keys": ['],
    ['not a keys file', JSON.stringify({ version: 2, keys: [] })],
    ['a record that does not parse', JSON.stringify({ version: 1, keys: [{ id: 'nope' }] })],
  ])('a keys file that is %s keeps the keys in use and logs an error', async (_what, text) => {
    const { file, first, keys, errors } = setup();
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
    await expect.poll(() => errors().length, POLL).toBeGreaterThan(0);
    expect(errors()[0]).toMatchObject({ file, keys: 1 });
    expect(keys.verify(first.key)?.tenant).toBe('acme');

    // Fixed again: the next good file applies.
    rmSync(file);
    const fixed = createKey(file, 'initech');
    await expect.poll(() => keys.verify(fixed.key)?.tenant, POLL).toBe('initech');
    expect(keys.verify(first.key)).toBeUndefined(); // not in the new file
  });

  it('a deleted keys file keeps the keys in use (it does not lock everyone out) and logs an error', async () => {
    const { file, first, keys, errors } = setup();
    rmSync(file);
    await expect.poll(() => errors().length, POLL).toBeGreaterThan(0);
    expect(keys.verify(first.key)?.tenant).toBe('acme');
  });

  it('reload() applies a change at once and says whether it did', () => {
    const { file, keys, watcher } = setup();
    const later = createKey(file, 'globex');
    expect(watcher.reload('test')).toBe(true);
    expect(keys.verify(later.key)?.tenant).toBe('globex');
    writeFileSync(file, 'garbage');
    expect(watcher.reload('test')).toBe(false);
    expect(keys.verify(later.key)?.tenant).toBe('globex');
  });
});
