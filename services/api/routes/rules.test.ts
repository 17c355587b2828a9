import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTrailError } from '../../platform/errors.js';
import { wireError } from '../../platform/http/wire-error.js';
import { serveMetrics } from '../../platform/metrics.js';
import type { ApiPrincipal } from '../roles.js';
import { detectorRulesReload, rulesRoutes } from './rules.js';

// Rules reload end to end over HTTP: the API's admin route → the detector's admin endpoint on
// its metrics port (platform/metrics.ts serveMetrics, as services/detector/main.ts wires it),
// with the action faked (the real one is the rules watcher's reload).

const TOKEN = 'detector-admin-token-0123';
let applied = true;
let reloads = 0;
let detector: Awaited<ReturnType<typeof serveMetrics>>;
let api: FastifyInstance;
let detectorUrl: string;

beforeAll(async () => {
  detector = await serveMetrics(new Registry(), {
    port: 0,
    admin: {
      token: TOKEN,
      onError: () => {},
      actions: {
        'rules-reload': async () => {
          reloads++;
          return applied
            ? { status: 200, body: { applied: true } }
            : {
                status: 422,
                body: {
                  applied: false,
                  errors: [{ code: 'AT_ERR_RULES_YAML', file: 'r.yaml', line: 3, message: 'bad' }],
                },
              };
        },
      },
    },
  });
  detectorUrl = `http://127.0.0.1:${(detector.address() as AddressInfo).port}`;
  api = Fastify();
  api.decorateRequest('apiPrincipal', null);
  const who: Record<string, ApiPrincipal> = {
    admin: { keyId: 'aaaaaaaaaaaa', tenant: 'acme', role: 'admin' },
    responder: { keyId: 'bbbbbbbbbbbb', tenant: 'acme', role: 'responder' },
  };
  api.addHook('onRequest', async (req) => {
    req.apiPrincipal = who[String(req.headers['x-who'] ?? '')] ?? null;
  });
  api.setErrorHandler((err: FastifyError | AgentTrailError, _req, reply) => {
    const d = wireError(err, { maxBodyBytes: 1 << 20 });
    return d ? reply.code(d.status).send({ code: d.code, message: d.message }) : reply.code(500).send();
  });
  await api.register(rulesRoutes, { reload: detectorRulesReload(detectorUrl, TOKEN) });
});
afterAll(async () => {
  await api.close();
  detector.close();
});

const reload = (who: string) =>
  api.inject({ method: 'POST', url: '/v1/admin/rules/reload', headers: { 'x-who': who } });

describe('rules reload', () => {
  it('asks the detector, and answers what it did; a set that does not load is a 422 naming the problem', async () => {
    applied = true;
    expect((await reload('admin')).json()).toEqual({ applied: true });
    applied = false;
    const bad = await reload('admin');
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({
      code: 'AT_ERR_RULES_INVALID',
      message: expect.stringContaining('AT_ERR_RULES_YAML r.yaml:3 bad'),
    });
    expect(reloads).toBe(2);
  });

  it('needs the admin role', async () => {
    expect((await reload('responder')).statusCode).toBe(403);
  });

  it("the detector's endpoint takes only POST with its token; without a token it has no admin actions", async () => {
    const before = reloads;
    expect((await fetch(`${detectorUrl}/admin/rules-reload`, { method: 'POST' })).status).toBe(401);
    expect(
      (
        await fetch(`${detectorUrl}/admin/rules-reload`, {
          method: 'POST',
          headers: { authorization: 'Bearer wrong-token-000000000' },
        })
      ).status,
    ).toBe(401);
    expect(
      (await fetch(`${detectorUrl}/admin/rules-reload`, { headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(404);
    expect(reloads).toBe(before);
    const bare = await serveMetrics(new Registry(), {
      port: 0,
      admin: { token: undefined, onError: () => {}, actions: { x: async () => ({ status: 200, body: {} }) } },
    });
    const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/admin/x`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
    bare.close();
  });

  it('a detector that does not answer is a 503 in our words', async () => {
    const gone = Fastify();
    gone.decorateRequest('apiPrincipal', null);
    gone.addHook('onRequest', async (req) => {
      req.apiPrincipal = { keyId: 'aaaaaaaaaaaa', tenant: 'acme', role: 'admin' };
    });
    gone.setErrorHandler((err: FastifyError | AgentTrailError, _req, reply) => {
      const d = wireError(err, { maxBodyBytes: 1 << 20 });
      return d ? reply.code(d.status).send({ code: d.code }) : reply.code(500).send();
    });
    await gone.register(rulesRoutes, { reload: detectorRulesReload('http://127.0.0.1:9', TOKEN, 1_000) });
    const r = await gone.inject({ method: 'POST', url: '/v1/admin/rules/reload' });
    expect(r.statusCode).toBe(503);
    expect(r.json().code).toBe('AT_ERR_DETECTOR_UNAVAILABLE');
    await gone.close();
  });
});
