import { describe, expect, it } from 'vitest';
import { type ChainEvent, verifyChain } from '../schemas/index.js';
import { redactEvent } from '../services/platform/redaction/index.js';
import { createAgentTrail } from './client.js';
import type { WireEvent } from './seal.js';
import { AGENT, DECLARE, memoryTransport } from './test-helpers.js';

// Acceptance: a task with 1,000 actions gets gap-free seqs and a hash chain that the
// independent verifier in schemas/chain.ts accepts once stored (redacted by the gateway's
// keyed run), and rejects when any one event is altered, dropped or reordered.

const KEY = 'gateway-fingerprint-key';
const ghToken = `ghp_${'Zx9'.repeat(12)}`;

/** What the gateway does before producing: keyed redaction, received_at, sightings. */
function storeAsGateway(e: WireEvent): ChainEvent {
  const { event, secrets, entities } = redactEvent(e, { key: KEY });
  return { ...event, received_at: new Date().toISOString(), secrets, entities } as ChainEvent;
}

async function recordTask() {
  const mem = memoryTransport();
  const trail = createAgentTrail({ tenant: 'acme', agent: AGENT, transport: mem.transport, batchSize: 100 });
  const task = await trail.declareTask(DECLARE);
  for (let i = 1; i <= 1000; i++) {
    await task.action({
      tool: 'github.issues.update',
      operation: 'write',
      resource: `github:acme/web/issues/${i}`,
      outcome: 'ok',
      // Every 50th call carries a secret: the chain must hold over the redacted, stored form.
      arguments: i % 50 === 0 ? { headers: { authorization: `token ${ghToken}` }, n: i } : { n: i },
      output: { excerpt: `updated issue ${i}` },
    });
  }
  await task.end({ outcome: 'completed' });
  await trail.close();
  return mem.accepted();
}

const SAMPLE = [0, 1, 2, 3, 250, 500, 501, 777, 998, 999, 1000];

describe('SDK hash chain (1,000 actions)', async () => {
  const sent = await recordTask();
  const stored = sent.map(storeAsGateway);

  it('numbers the task gap-free: declaration 1, actions 2..1001, end 1002', () => {
    expect(sent.map((e) => e.seq)).toEqual(Array.from({ length: 1002 }, (_, i) => i + 1));
    const actions = sent.filter((e) => e.type === 'action');
    expect(actions).toHaveLength(1000);
    expect(actions[0]!.seq).toBe(2);
    expect(actions[999]!.seq).toBe(1001);
    expect(sent[0]!.prev_hash).toBeUndefined();
  });

  it('stored (redacted) events verify with the independent verifier', () => {
    expect(JSON.stringify(stored)).not.toContain(ghToken);
    expect(stored[50]!.secrets).toHaveLength(1);
    expect(verifyChain(stored)).toEqual({ ok: true, problems: [] });
  });

  it('hashes the redacted form: raw events carrying secrets do not verify, clean ones do', () => {
    const raw = verifyChain(sent as unknown as ChainEvent[]);
    expect(raw.ok).toBe(false);
    expect(raw.problems.every((p) => p.kind === 'hash_mismatch')).toBe(true);
    expect(raw.problems.map((p) => (p as { seq: number }).seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i + 1) * 50 + 1),
    );
  });

  it.each(SAMPLE)('fails when event %i is altered', (i) => {
    const copy = structuredClone(stored);
    const e = copy[i]! as unknown as { data: Record<string, unknown> };
    e.data = { ...e.data, outcome: e.data.outcome === 'ok' ? 'denied' : 'failed' };
    expect(verifyChain(copy).problems).toContainEqual({ kind: 'hash_mismatch', index: i, seq: i + 1 });
  });

  it.each(SAMPLE)('fails when event %i is altered and re-hashed (the next link breaks)', async (i) => {
    const { eventHash } = await import('../schemas/index.js');
    const copy = structuredClone(stored);
    const e = copy[i]! as ChainEvent;
    e.occurred_at = '2020-01-01T00:00:00.000Z';
    e.hash = eventHash(e);
    expect(verifyChain(copy).problems).toContainEqual({
      kind: 'prev_hash_mismatch',
      index: i + 1,
      seq: i + 2,
    });
  });

  it.each(SAMPLE)('fails when event %i is dropped', (i) => {
    const copy = stored.filter((_, j) => j !== i);
    expect(verifyChain(copy).ok).toBe(false);
  });

  it('dropping the final event leaves a valid prefix: completeness comes from task.ended', () => {
    // A chain cannot prove its own tail; the missing `task.ended` is what the detector's
    // integrity rule reports. Documented, and asserted here so nobody assumes otherwise.
    const copy = stored.slice(0, -1);
    expect(verifyChain(copy).ok).toBe(true);
    expect(copy.at(-1)!.type).not.toBe('task.ended');
  });

  it.each(SAMPLE)('fails when events %i and %i+1 are swapped', (i) => {
    const copy = [...stored];
    [copy[i], copy[i + 1]] = [copy[i + 1]!, copy[i]!];
    expect(verifyChain(copy).ok).toBe(false);
  });
});
