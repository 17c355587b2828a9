import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../scenarios/catalogue.js';
import { canonicalJson, chainView, eventHash } from '../../schemas/index.js';
import { chainBytesAndHash, chainText, fastEventHash } from './chain-hash.js';

describe('fastEventHash', () => {
  const events = generateScenarios({ id: 'h' }).flatMap((s) => s.events);

  it('equals schemas/chain.ts eventHash on every scenario event', () => {
    expect(events.length).toBeGreaterThan(100);
    for (const e of events) expect(fastEventHash(e)).toBe(eventHash(e as unknown as Record<string, unknown>));
  });

  it('chainBytesAndHash gives chainText with the members spliced in, and fastEventHash, from one encoding', () => {
    const members = ',"received_at":"2026-12-07T00:00:00.000Z","secrets":[{"p":"é \\u2028"}]';
    for (const e of events) {
      const both = chainBytesAndHash(e, members);
      const text = canonicalJson(chainView(e as unknown as Record<string, unknown>));
      expect(both.bytes.toString('utf8')).toBe(`${text.slice(0, -1)}${members}}`);
      expect(both.hash).toBe(eventHash(e as unknown as Record<string, unknown>));
    }
    const odd = { prev_hash: null, é: 'quote " \\ \u2028 \ud800', hash: 'x', n: [1, undefined] };
    const both = chainBytesAndHash(odd, ',"m":"€"');
    expect(both.bytes.toString('utf8')).toBe(`${chainText(odd).slice(0, -1)},"m":"€"}`);
    expect(both.hash).toBe(fastEventHash(odd));
    // Nothing the chain covers: no comma before the first member.
    expect(chainBytesAndHash({ hash: 'x' }, ',"a":1,"b":2').bytes.toString()).toBe('{"a":1,"b":2}');
    // A long member list grows the shared buffer; the bytes are a copy, not a view of it.
    const long = `,"x":"${'ü'.repeat(70_000)}"`;
    const grown = chainBytesAndHash({ a: 1 }, long);
    expect(grown.bytes.toString('utf8')).toBe(`{"a":1${long}}`);
    chainBytesAndHash({ b: 2 }, '');
    expect(grown.bytes.toString('utf8')).toBe(`{"a":1${long}}`);
  });

  it.each([
    { a: 1, b: [1, undefined, 'x'], c: undefined, hash: 'h', received_at: 't', secrets: [], entities: [] },
    { prev_hash: null, é: { z: null, a: [true, false, { '': 1.5e-7 }] }, B: 'quote " and \\ and \u2028' },
    { nested: { hash: 'kept below the top level', received_at: 'kept' }, n: -0, big: 1e21 },
  ])('equals the reference encoding for %j', (obj) => {
    expect(chainText(obj)).toBe(canonicalJson(chainView(obj as Record<string, unknown>)));
  });
});

describe('fastEventHash byte encoder', () => {
  // Deterministic pseudo-random strings over the awkward ranges: controls, quotes, backslashes,
  // 2- and 3-byte UTF-8, pairs and lone surrogates, U+2028.
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed % n;
  };
  const UNITS = [
    0, 8, 9, 10, 12, 13, 31, 32, 34, 47, 92, 127, 128, 0x7ff, 0x800, 0x2028, 0xd7ff, 0xe000, 0xffff,
  ];
  const randomString = () => {
    let s = '';
    const len = rand(12);
    for (let i = 0; i < len; i++) {
      const r = rand(6);
      if (r === 0)
        s += String.fromCharCode(0xd800 + rand(0x400), 0xdc00 + rand(0x400)); // pair
      else if (r === 1)
        s += String.fromCharCode(0xd800 + rand(0x800)); // lone (high or low)
      else if (r === 2) s += String.fromCharCode(UNITS[rand(UNITS.length)]!);
      else s += String.fromCharCode(32 + rand(95));
    }
    return s;
  };

  it('equals the reference on random strings, keys and key orders', () => {
    for (let i = 0; i < 2000; i++) {
      const data: Record<string, unknown> = {};
      const keys = ['tool', 'operation', randomString(), 'resource', randomString()];
      for (const k of i % 2 === 0 ? keys : [...keys].reverse()) data[k] = randomString();
      const event: Record<string, unknown> = {
        type: i % 3 === 0 ? 'action' : 'approval.granted',
        event_id: randomString(),
        seq: i,
        data,
        agent: i % 5 === 0 ? { id: randomString(), workload_identity: 'w' } : { id: 'a' },
        nums: [0, -0, 1.5, -1e-7, 1e21, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY],
      };
      if (i % 4 === 0) event.prev_hash = null;
      const ref = eventHash(event);
      expect(fastEventHash(event)).toBe(ref);
      expect(chainText(event)).toBe(canonicalJson(chainView(event)));
    }
  });

  it('does not reuse a learned key order for an object with other keys', () => {
    const a = { type: 'action', seq: 1, data: { tool: 't', operation: 'read', outcome: 'ok' } };
    const b = { type: 'action', seq: 2, data: { tool: 't', operation: 'read' } };
    const c = { type: 'action', seq: 3, data: { tool: 't', operation: 'read', error: 'x' } };
    for (const e of [a, b, c, a, c, b]) expect(fastEventHash(e)).toBe(eventHash(e));
  });

  it('ignores inherited members, as the reference does', () => {
    const proto = { inherited: 'x' };
    const data = Object.assign(Object.create(proto) as Record<string, unknown>, { tool: 't' });
    const plain = { type: 'action', seq: 1, data: { tool: 't', inherited: 'x' } };
    const odd = { type: 'action', seq: 1, data };
    expect(fastEventHash(plain)).toBe(eventHash(plain));
    expect(fastEventHash(odd)).toBe(eventHash(odd));
    const P = Object.prototype as Record<string, unknown>;
    try {
      P.polluted = 1;
      const e = { type: 'action', seq: 1, data: { tool: 't', polluted: 2 } };
      fastEventHash(e);
      const f = { type: 'action', seq: 1, data: { tool: 't' } };
      expect(fastEventHash(f)).toBe(eventHash(f));
    } finally {
      delete P.polluted;
    }
  });
});
