import { describe, expect, it } from 'vitest';
import { type ChainEvent, verifyChain } from '../schemas/index.js';
import { redactEvent } from '../services/platform/redaction/index.js';
import { createAgentTrail } from './client.js';
import { sealEvent, type WireEvent } from './seal.js';
import { AGENT, DECLARE, memoryTransport, wellFormedDeep } from './test-helpers.js';

// Lone UTF-16 surrogates (issue 10, item 1): a caller's string that is not well-formed Unicode
// cannot be stored (ClickHouse refuses it; the gateway answers 422), so the SDK replaces each lone
// surrogate with U+FFFD before sealing, says where in `data.adjusted`, and hashes that form.

const storeAsGateway = (e: WireEvent): ChainEvent =>
  ({
    ...redactEvent(e, { key: 'gateway-fingerprint-key' }).event,
    received_at: new Date().toISOString(),
  }) as ChainEvent;

describe('lone surrogates in what the caller passes', () => {
  it('are replaced with U+FFFD, recorded in data.adjusted, and the chain verifies as stored', async () => {
    const mem = memoryTransport();
    const trail = createAgentTrail({ tenant: 'acme', agent: AGENT, transport: mem.transport, logger: false });
    const task = await trail.declareTask({ ...DECLARE, intent: 'reconcile \udc00 invoices' });
    await task.action({
      tool: 'erp.invoices.get',
      operation: 'read',
      resource: 'erp:invoices/\ud800',
      outcome: 'ok',
      arguments: { 'key\ud800': ['v\udfff', 1] },
    });
    await task.action({
      tool: 'erp.invoices.get',
      operation: 'read',
      resource: 'erp:invoices/😀',
      outcome: 'ok',
    });
    await trail.flush();
    const [declared, poisoned, clean] = mem.accepted() as Array<
      WireEvent & { data: Record<string, unknown> }
    >;
    expect(declared!.data.intent).toBe('reconcile \ufffd invoices');
    expect(declared!.data.adjusted).toEqual([{ path: 'data.intent', reason: 'ill_formed_unicode' }]);
    expect(poisoned!.data.resource).toBe('erp:invoices/\ufffd');
    expect(poisoned!.data.arguments).toEqual({ 'key\ufffd': ['v\ufffd', 1] });
    expect(poisoned!.data.adjusted).toEqual([
      { path: 'data.resource', reason: 'ill_formed_unicode' },
      { path: 'data.arguments', reason: 'ill_formed_unicode' },
    ]);
    // A well-formed pair is left alone and nothing is marked.
    expect(clean!.data.resource).toBe('erp:invoices/😀');
    expect(clean!.data.adjusted).toBeUndefined();
    expect(wellFormedDeep(mem.accepted())).toBe(true);
    expect(verifyChain(mem.accepted().map(storeAsGateway))).toEqual({ ok: true, problems: [] });
    expect(trail.stats().adjusted).toBe(2);
  });

  it('in the envelope (agent.instance) too', () => {
    const e = sealEvent({
      event_id: 'e1',
      schema_version: 1,
      type: 'task.ended',
      occurred_at: '2026-03-01T12:00:00.000Z',
      tenant: 'acme',
      agent: { id: 'a', instance: 'pod-\ud83d' },
      task_id: 't1',
      seq: 1,
      data: { outcome: 'completed' },
    });
    expect(e.agent.instance).toBe('pod-\ufffd');
    expect(e.data).toEqual({
      outcome: 'completed',
      adjusted: [{ path: 'agent.instance', reason: 'ill_formed_unicode' }],
    });
    expect(verifyChain([storeAsGateway(e)]).ok).toBe(true);
  });
});
