import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTrailError } from '../../platform/errors.js';
import { wireError } from '../../platform/http/wire-error.js';
import { createKey, KeyStore, readKeysFile } from '../../platform/keys/index.js';
import type { ApiPrincipal } from '../roles.js';
import { keysRoutes } from './keys.js';

// Key management over temp keys files, with a fake principal per request (x-who): an admin sees
// and touches only its tenant's keys; what it creates verifies in the right kind of store.

const dir = mkdtempSync(join(tmpdir(), 'at-api-keys-'));
const apiKeysFile = join(dir, 'api-keys.json');
const collectorKeysFile = join(dir, 'gateway-keys.json');
const principals: Record<string, ApiPrincipal> = {
  admin: { keyId: 'aaaaaaaaaaaa', tenant: 'acme', role: 'admin' },
  responder: { keyId: 'bbbbbbbbbbbb', tenant: 'acme', role: 'responder' },
};
let app: FastifyInstance;
let globexKeyId: string;

beforeAll(async () => {
  createKey(apiKeysFile, 'acme', 'seed', 'analyst');
  globexKeyId = createKey(apiKeysFile, 'globex', 'other tenant', 'admin').record.id;
  createKey(collectorKeysFile, 'acme', 'collector seed');
  app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: true } } });
  app.decorateRequest('apiPrincipal', null);
  app.addHook('onRequest', async (req) => {
    req.apiPrincipal = principals[String(req.headers['x-who'] ?? '')] ?? null;
  });
  app.setErrorHandler((err: FastifyError | AgentTrailError, _req, reply) => {
    const d = wireError(err, { maxBodyBytes: 1 << 20 });
    return d ? reply.code(d.status).send({ code: d.code, message: d.message }) : reply.code(500).send();
  });
  await app.register(keysRoutes, { apiKeysFile, collectorKeysFile });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const as = (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  app.inject({ method, url, headers: { 'x-who': who }, ...(payload ? { payload } : {}) });

describe('admin key routes', () => {
  it("lists the tenant's keys of both kinds, never hashes, never another tenant's", async () => {
    const r = await as('admin', 'GET', '/v1/admin/keys');
    expect(r.statusCode).toBe(200);
    const keys = r.json().keys as Array<Record<string, unknown>>;
    expect(keys.map((k) => [k.kind, k.tenant, k.role]).sort()).toEqual([
      ['api', 'acme', 'analyst'],
      ['collector', 'acme', undefined],
    ]);
    expect(r.body).not.toMatch(/sha256|[0-9a-f]{64}/);
  });

  it('creates an API key that verifies as an API key of the tenant and role, and a collector key for intake', async () => {
    const api = await as('admin', 'POST', '/v1/admin/keys', { role: 'responder' });
    expect(api.statusCode).toBe(201);
    expect(new KeyStore(readKeysFile(apiKeysFile).keys, 'api').verify(api.json().key)).toMatchObject({
      tenant: 'acme',
      role: 'responder',
    });
    const col = await as('admin', 'POST', '/v1/admin/keys', { kind: 'collector', label: 'ci' });
    expect(col.statusCode).toBe(201);
    expect(
      new KeyStore(readKeysFile(collectorKeysFile).keys, 'collector').verify(col.json().key)?.tenant,
    ).toBe('acme');
    expect((await as('admin', 'POST', '/v1/admin/keys', { kind: 'api' })).json().message).toMatch(
      /needs a role/,
    );
    expect(
      (await as('admin', 'POST', '/v1/admin/keys', { kind: 'collector', role: 'admin' })).statusCode,
    ).toBe(400);
  });

  it("revokes the tenant's key (idempotently); another tenant's key id is a 404 and stays valid", async () => {
    const created = (await as('admin', 'POST', '/v1/admin/keys', { role: 'analyst' })).json();
    const first = await as('admin', 'POST', `/v1/admin/keys/${created.record.id}/revoke`);
    expect(first.json()).toMatchObject({ already_revoked: false, record: { id: created.record.id } });
    expect(new KeyStore(readKeysFile(apiKeysFile).keys, 'api').verify(created.key)).toBeUndefined();
    expect(
      (await as('admin', 'POST', `/v1/admin/keys/${created.record.id}/revoke`)).json().already_revoked,
    ).toBe(true);
    const other = await as('admin', 'POST', `/v1/admin/keys/${globexKeyId}/revoke`);
    expect(other.statusCode).toBe(404);
    expect(readKeysFile(apiKeysFile).keys.find((k) => k.id === globexKeyId)?.revoked_at).toBeUndefined();
  });

  it('needs the admin role', async () => {
    const r = await as('responder', 'GET', '/v1/admin/keys');
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe('AT_ERR_AUTH_FORBIDDEN');
  });
});
