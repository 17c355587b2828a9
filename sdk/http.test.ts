import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AgentEvent, validateEvent } from '../schemas/index.js';
import { createAgentTrail } from './client.js';
import { BatchRejectedError } from './errors.js';
import { AGENT, DECLARE, wellFormedDeep } from './test-helpers.js';

// The SDK over real HTTP against a fake gateway on 127.0.0.1 that answers as the real one does:
// 413 AT_ERR_BODY_TOO_LARGE over its body limit, 422 AT_ERR_EVENT_INVALID with per-event results
// (including strings that are not well-formed Unicode), else 202. Nothing is stored of a refused
// request (all-or-nothing).

interface FakeGateway {
  url: string;
  stored: AgentEvent[];
  requests: Array<{ bytes: number; status: number; body: string }>;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function fakeGateway(opts: { maxBodyBytes: number; refuseTool?: string }): Promise<FakeGateway> {
  const gw: FakeGateway = { url: '', stored: [], requests: [] };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const answer = (status: number, body: unknown) => {
        gw.requests.push({ bytes: raw.length, status, body: raw.toString('utf8') });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (raw.length > opts.maxBodyBytes) {
        return answer(413, {
          code: 'AT_ERR_BODY_TOO_LARGE',
          message: `body of ${raw.length} bytes; the limit is ${opts.maxBodyBytes}`,
        });
      }
      const items = JSON.parse(raw.toString('utf8')) as unknown[];
      const results = items.map((item, index) => {
        const r = validateEvent(item);
        const errors = r.ok ? [] : r.errors;
        if (!wellFormedDeep(item)) errors.push({ path: 'data', message: 'is not well-formed Unicode' });
        if (r.ok && r.value.type === 'action' && r.value.data.tool === opts.refuseTool) {
          errors.push({ path: 'data.tool', message: 'refused by this gateway' });
        }
        return errors.length > 0
          ? { index, status: 'rejected', errors }
          : { index, status: 'valid', event_id: (item as { event_id: string }).event_id };
      });
      if (results.some((r) => r.status === 'rejected')) {
        return answer(422, { code: 'AT_ERR_EVENT_INVALID', message: 'nothing was accepted', results });
      }
      gw.stored.push(...(items as AgentEvent[]));
      answer(202, { accepted: items.length, results: [] });
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  gw.url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  return gw;
}

const trailFor = (gw: FakeGateway, extra: Partial<Parameters<typeof createAgentTrail>[0]> = {}) =>
  createAgentTrail({
    endpoint: gw.url,
    apiKey: 'atk_test_key',
    tenant: 'acme',
    agent: AGENT,
    flushIntervalMs: 60_000,
    logger: false,
    ...extra,
  });

describe('SDK over HTTP against a gateway with limits', () => {
  it('delivers a batch larger than the gateway body limit by splitting it, never resending a refused body', async () => {
    const gw = await fakeGateway({ maxBodyBytes: 64 * 1024 });
    const onError = vi.fn();
    const trail = trailFor(gw, { batchSize: 200, onError });
    const task = await trail.declareTask(DECLARE);
    for (let i = 0; i < 100; i++) {
      await task.action({
        tool: 'erp.invoices.get',
        operation: 'read',
        outcome: 'ok',
        arguments: { blob: 'z'.repeat(6_000), i },
      });
    }
    await trail.close();
    expect(onError).not.toHaveBeenCalled();
    expect(gw.stored.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    const refused = gw.requests.filter((r) => r.status === 413);
    expect(refused.length).toBeGreaterThan(0);
    const bodies = gw.requests.map((r) => r.body);
    expect(new Set(bodies).size).toBe(bodies.length);
  });

  it('stores an event with lone surrogates (normalised to U+FFFD) instead of losing it to a 422', async () => {
    const gw = await fakeGateway({ maxBodyBytes: 1024 * 1024 });
    const onError = vi.fn();
    const trail = trailFor(gw, { onError });
    const task = await trail.declareTask(DECLARE);
    await task.action({
      tool: 'erp.invoices.get',
      operation: 'read',
      outcome: 'ok',
      resource: 'erp:invoices/\ud800',
    });
    await trail.close();
    expect(onError).not.toHaveBeenCalled();
    expect(gw.requests.map((r) => r.status)).toEqual([202]);
    expect(gw.stored.map((e) => e.type === 'action' && e.data.resource)).toEqual([
      false,
      'erp:invoices/\ufffd',
    ]);
  });

  it('surfaces a 422 for one event once, without retrying it, and delivers the others', async () => {
    const gw = await fakeGateway({ maxBodyBytes: 1024 * 1024, refuseTool: 'legacy.tool' });
    const onError = vi.fn();
    const trail = trailFor(gw, { onError });
    const task = await trail.declareTask(DECLARE);
    const bad = await task.action({ tool: 'legacy.tool', operation: 'read', outcome: 'ok' });
    await task.action({ tool: 'erp.invoices.get', operation: 'read', outcome: 'ok' });
    await expect(trail.flush()).rejects.toBeInstanceOf(BatchRejectedError);
    expect(gw.requests.map((r) => r.status)).toEqual([422, 202]);
    expect(gw.stored.map((e) => e.seq)).toEqual([1, 3]);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toMatchObject({ status: 422, eventIds: [bad.event_id] });
    expect(trail.stats()).toMatchObject({ accepted: 2, refused: 1, pending: 0 });
    await trail.close();
  });
});
