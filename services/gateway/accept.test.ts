import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../scenarios/catalogue.js';
import { type AgentEvent, eventHash, validateEvent } from '../../schemas/index.js';
import { Fingerprinter, redactEvent } from '../platform/redaction/index.js';
import { type AcceptContext, produceAccepted } from './accept.js';
import { createGatewayMetrics } from './metrics.js';
import { TokenBuckets } from './rate-limit.js';
import { FakeSink } from './testing.js';

// The stored form (accept.ts `stored`): whatever spelling it takes, it must be the JSON value
// the gateway has always stored — the redacted event, received_at, secrets and entities — and
// the hash verdict must be the reference one (schemas/chain.ts).

const KEY = 'accept-test-fingerprint-key';

function context(sink: FakeSink): AcceptContext {
  return {
    sink,
    metrics: createGatewayMetrics(),
    buckets: new TokenBuckets(1_000, 1_000),
    fingerprinter: new Fingerprinter(KEY),
  };
}

/** What the gateway stored before the canonical spelling: spread, then JSON.stringify. */
function reference(event: AgentEvent, receivedAt: string): { value: Record<string, unknown>; hash?: string } {
  const { event: redacted, secrets, entities } = redactEvent(event, { key: new Fingerprinter(KEY) });
  const { secrets: _s, entities: _e, ...rest } = redacted as AgentEvent & Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest, received_at: receivedAt };
  if (secrets.length > 0) out.secrets = secrets;
  if (entities.length > 0) out.entities = entities;
  const verdict =
    redacted.hash === undefined
      ? undefined
      : eventHash(redacted as unknown as Record<string, unknown>) === redacted.hash
        ? 'ok'
        : 'mismatch';
  return { value: JSON.parse(JSON.stringify(out)), ...(verdict && { hash: verdict }) };
}

function valid(input: unknown): AgentEvent {
  const r = validateEvent(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

const scenarioEvents = generateScenarios({ id: 'acc' }).flatMap((s) => s.events);

const awkward: AgentEvent[] = [
  // No hash, null prev_hash, keys in no particular order, escapes and non-ASCII, a secret.
  valid({
    type: 'action',
    tenant: 'acme',
    schema_version: 1,
    event_id: 'e-1',
    occurred_at: '2026-03-01T12:00:00.000Z',
    agent: { workload_identity: 'spiffe://x/é', id: 'bot' },
    task_id: 't-1',
    seq: 1,
    prev_hash: null,
    data: {
      tool: 'http.fetch',
      outcome: 'ok',
      operation: 'read',
      arguments: {
        z: 'quote " and \\ and \u2028 and 日本',
        a: [1, 2.5, -0, null, true],
        hash: 'nested hash stays',
      },
      output: { excerpt: `Authorization: Bearer ${'x1Y2z3'.repeat(6)} ops@acme.example`, bytes: 12 },
    },
  }),
  // A wrong hash: stored as sent, marked as a mismatch.
  valid({
    type: 'action',
    event_id: 'e-2',
    schema_version: 1,
    occurred_at: '2026-03-01T12:00:00.000Z',
    tenant: 'acme',
    agent: { id: 'bot' },
    task_id: 't-1',
    seq: 2,
    prev_hash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    data: { tool: 'http.get', operation: 'read', outcome: 'ok' },
  }),
];

describe('produceAccepted: the stored form', () => {
  it('is the same JSON value as spread + JSON.stringify, with the reference hash verdict', async () => {
    const events = [...scenarioEvents, ...awkward];
    expect(events.length).toBeGreaterThan(100);
    const sink = new FakeSink();
    await produceAccepted(events, context(sink));
    expect(sink.produced).toHaveLength(events.length);
    const verdicts = new Set<string | undefined>();
    sink.produced.forEach((m, i) => {
      const stored = JSON.parse(m.value) as Record<string, unknown>;
      const ref = reference(events[i]!, stored.received_at as string);
      expect(stored).toStrictEqual(ref.value);
      expect(m.hash).toBe(ref.hash);
      expect(m.key).toBe(events[i]!.task_id);
      verdicts.add(m.hash);
    });
    // Every branch of the verdict was exercised.
    expect(verdicts).toEqual(new Set(['ok', 'mismatch', undefined]));
  });

  it('keeps a null prev_hash and the hash, which the chain encoding leaves out', async () => {
    const sink = new FakeSink();
    await produceAccepted([awkward[0]!, awkward[1]!], context(sink));
    const [first, second] = sink.produced.map((m) => JSON.parse(m.value) as Record<string, unknown>);
    expect(first).toHaveProperty('prev_hash', null);
    expect(first).not.toHaveProperty('hash');
    expect(second!.hash).toBe('b'.repeat(64));
    expect(sink.produced[0]!.value).not.toContain('x1Y2z3x1Y2z3');
  });
});
