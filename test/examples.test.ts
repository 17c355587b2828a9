import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RoutesFile } from '../schemas/route.js';
import { signatureHeader } from '../services/alerter/sign.js';
import { repoRoot } from '../stack/paths.js';

// README's "run each service by hand" relies on these: the sample routes file must load, and
// the local receiver must verify what the alerter signs.

describe('examples/alerter-routes.yaml', () => {
  it('is a valid routes file whose webhook points at the local receiver', () => {
    const file = RoutesFile.parse(
      parse(readFileSync(join(repoRoot, 'examples/alerter-routes.yaml'), 'utf8')),
    );
    expect(file.routes.map((r) => r.name)).toEqual(['everything']);
    expect(file.destinations['local-webhook']).toMatchObject({
      type: 'webhook',
      url: 'http://127.0.0.1:9000/alerts',
      secret_env: 'ALERTER_WEBHOOK_SECRET',
    });
  });
});

describe('agenttrail receiver', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
  });

  it('prints each page with its signature verdict and refuses a bad signature with 401', async () => {
    child = spawn(process.execPath, [join(repoRoot, 'bin/agenttrail.mjs'), 'receiver', '--port', '0'], {
      env: { ...process.env, ALERTER_WEBHOOK_SECRET: 'test-secret' },
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c;
    });
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1]);
    const body = JSON.stringify({
      kind: 'agenttrail.alert',
      group: { count: 2 },
      alert: { rule_id: 'AT-SCOPE-001', severity: 'high', tenant: 'acme', task_id: 't-1' },
    });
    const good = await fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'x-agenttrail-signature': signatureHeader('test-secret', body) },
      body,
    });
    const bad = await fetch(`${url}/alerts`, {
      method: 'POST',
      headers: { 'x-agenttrail-signature': signatureHeader('other-secret', body) },
      body,
    });
    expect([good.status, bad.status]).toEqual([200, 401]);
    await waitFor(() => (out.split('\n').length > 2 ? true : undefined));
    const [first, second] = out.trim().split('\n');
    expect(first).toMatch(
      / 200 {2}agenttrail\.alert {2}AT-SCOPE-001 {2}high {2}acme\/t-1 {2}x2 {2}signature ok$/,
    );
    expect(second).toMatch(/ 401 .*signature BAD \(mismatch\)$/);
  }, 30_000);
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
