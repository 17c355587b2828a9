import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAlert, makeStatus } from '../../alerter/testing.js';
import { AgentTrailError } from '../../platform/errors.js';
import { wireError } from '../../platform/http/wire-error.js';
import type { AlertStatusWriter } from '../alert-status/writer.js';
import type { ApiPrincipal } from '../roles.js';
import { alertStatusRoutes } from './alert-status.js';

// The route plugin over a fake writer: roles, body and params schema, the answer's shape.
// (Writer, Kafka, ClickHouse and the alerter together: test/alert-status.int.test.ts.)

const principals: Record<string, ApiPrincipal> = {
  responder: { keyId: 'key-r', tenant: 'acme', role: 'responder' },
  analyst: { keyId: 'key-a', tenant: 'acme', role: 'analyst' },
};
const alert = makeAlert({ tenant: 'acme' });
const calls: Array<[string, string, string, string]> = [];
const writer: AlertStatusWriter = {
  async acknowledge(by, id, reason) {
    calls.push(['acknowledge', by.keyId, id, reason]);
    if (id !== alert.alert_id) throw new AgentTrailError('AT_ERR_NOT_FOUND', `no alert ${id}`);
    const record = makeStatus(alert, 'alert.acknowledged', {
      reason,
      by: { key_id: by.keyId, role: by.role },
    });
    return { alert_id: id, dedup_key: alert.dedup_key, status: 'acknowledged', record };
  },
  async resolve(by, id) {
    calls.push(['resolve', by.keyId, id, '']);
    throw new AgentTrailError('AT_ERR_CONFLICT', 'already resolved');
  },
};

let app: FastifyInstance | undefined;
const routes: string[][] = [];
async function build(): Promise<FastifyInstance> {
  const a = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: true } } });
  a.decorateRequest('apiPrincipal', null);
  routes.length = 0;
  a.addHook('onRoute', (r) => {
    routes.push([String(r.method), r.url, String((r.config as { role?: string } | undefined)?.role)]);
  });
  a.addHook('onRequest', async (req) => {
    req.apiPrincipal = principals[String(req.headers['x-role'] ?? '')] ?? null;
  });
  a.setErrorHandler((err: FastifyError | AgentTrailError, _req, reply) => {
    const d = wireError(err, { maxBodyBytes: 1 << 20 });
    return d ? reply.code(d.status).send({ code: d.code, message: d.message }) : reply.code(500).send();
  });
  await a.register(alertStatusRoutes, { writer });
  app = a;
  return a;
}
afterEach(async () => {
  calls.length = 0;
  await app?.close();
});

const post = (a: FastifyInstance, role: string | undefined, url: string, payload: unknown) =>
  a.inject({ method: 'POST', url, headers: role ? { 'x-role': role } : {}, payload: payload as object });

describe('alert status routes', () => {
  it('declare the responder role on both routes (what the auth plugin enforces)', async () => {
    const a = await build();
    expect(routes).toEqual([
      ['POST', '/v1/alerts/:id/acknowledge', 'responder'],
      ['POST', '/v1/alerts/:id/resolve', 'responder'],
    ]);
    expect(a.hasRoute({ method: 'POST', url: '/v1/alerts/:id/resolve' })).toBe(true);
  });

  it('answers the change with the record; the writer gets the principal, id and reason', async () => {
    const a = await build();
    const res = await post(a, 'responder', `/v1/alerts/${alert.alert_id}/acknowledge`, { reason: 'on it' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      alert_id: alert.alert_id,
      dedup_key: alert.dedup_key,
      status: 'acknowledged',
      record: { type: 'alert.acknowledged', by: { key_id: 'key-r', role: 'responder' }, reason: 'on it' },
    });
    expect(calls).toEqual([['acknowledge', 'key-r', alert.alert_id, 'on it']]);
  });

  it('401 without a principal, 403 for an analyst, and the writer is never called', async () => {
    const a = await build();
    const url = `/v1/alerts/${alert.alert_id}/resolve`;
    expect((await post(a, undefined, url, { reason: 'x' })).json()).toMatchObject({
      code: 'AT_ERR_AUTH_MISSING',
    });
    const analyst = await post(a, 'analyst', url, { reason: 'x' });
    expect(analyst.statusCode).toBe(403);
    expect(analyst.json()).toMatchObject({ code: 'AT_ERR_AUTH_FORBIDDEN' });
    expect(calls).toEqual([]);
  });

  it('400 for a missing, empty, too long or extra-field body', async () => {
    const a = await build();
    const url = `/v1/alerts/${alert.alert_id}/acknowledge`;
    for (const body of [{}, { reason: '' }, { reason: 'x'.repeat(1025) }, { reason: 'x', by: 'someone' }]) {
      const res = await post(a, 'responder', url, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'AT_ERR_BAD_REQUEST' });
    }
    expect(calls).toEqual([]);
  });

  it("passes the writer's 404 and 409 through in the catalogue's words", async () => {
    const a = await build();
    const missing = await post(a, 'responder', `/v1/alerts/${'0'.repeat(32)}/acknowledge`, { reason: 'x' });
    expect(missing.statusCode).toBe(404);
    const conflict = await post(a, 'responder', `/v1/alerts/${alert.alert_id}/resolve`, { reason: 'x' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ code: 'AT_ERR_CONFLICT', message: 'already resolved' });
  });
});
