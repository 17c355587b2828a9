import { describe, expect, it } from 'vitest';
import { canonicalJson, chainView, eventHash, verifyChain } from './chain.js';

// The chain specification itself (schemas/chain.ts), independent of the SDK that writes it.

describe('canonicalJson', () => {
  it('sorts keys recursively, drops undefined members, writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'é' }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":"é","z":0}]},"b":1}',
    );
  });
});

describe('chainView / eventHash', () => {
  const base = { seq: 1, task_id: 't', data: { a: 1 } };
  it('ignores the fields outside the chain', () => {
    const withExtras = {
      ...base,
      hash: 'x',
      received_at: '2026-01-01T00:00:00Z',
      secrets: [{ kind: 'jwt', path: 'data.a', fp: 'f'.repeat(32) }],
      entities: [],
      prev_hash: null,
    };
    expect(chainView(withExtras)).toEqual(base);
    expect(eventHash(withExtras)).toBe(eventHash(base));
  });
  it('changes with any covered field', () => {
    expect(eventHash({ ...base, seq: 2 })).not.toBe(eventHash(base));
    expect(eventHash({ ...base, data: { a: 2 } })).not.toBe(eventHash(base));
  });
});

describe('verifyChain', () => {
  function chain(n: number) {
    const out: Array<Record<string, unknown> & { seq: number; hash?: string }> = [];
    let prev: string | undefined;
    for (let seq = 1; seq <= n; seq++) {
      const e: Record<string, unknown> & { seq: number; hash?: string } = { seq, data: { i: seq } };
      if (prev) e.prev_hash = prev;
      e.hash = eventHash(e);
      prev = e.hash;
      out.push(e);
    }
    return out;
  }
  it('accepts a well-formed chain and reports each kind of problem', () => {
    expect(verifyChain(chain(5)).ok).toBe(true);
    const gap = chain(5).filter((e) => e.seq !== 3);
    expect(verifyChain(gap).problems[0]).toEqual({ kind: 'seq_gap', index: 2, expected: 3, got: 4 });
    const unhashed = chain(3);
    delete unhashed[1]!.hash;
    expect(verifyChain(unhashed).problems).toContainEqual({ kind: 'missing_hash', index: 1, seq: 2 });
  });
});
