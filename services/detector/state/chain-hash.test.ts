import { describe, expect, it } from 'vitest';
import { canonicalJson, chainView, eventHash } from '../../../schemas/index.js';
import { generateScenarios } from '../../../test/scenarios/catalogue.js';
import { chainText, fastEventHash } from './chain-hash.js';

describe('fastEventHash', () => {
  const events = generateScenarios({ id: 'h' }).flatMap((s) => s.events);

  it('equals schemas/chain.ts eventHash on every scenario event', () => {
    expect(events.length).toBeGreaterThan(100);
    for (const e of events) expect(fastEventHash(e)).toBe(eventHash(e as unknown as Record<string, unknown>));
  });

  it.each([
    { a: 1, b: [1, undefined, 'x'], c: undefined, hash: 'h', received_at: 't', secrets: [], entities: [] },
    { prev_hash: null, é: { z: null, a: [true, false, { '': 1.5e-7 }] }, B: 'quote " and \\ and \u2028' },
    { nested: { hash: 'kept below the top level', received_at: 'kept' }, n: -0, big: 1e21 },
  ])('equals the reference encoding for %j', (obj) => {
    expect(chainText(obj)).toBe(canonicalJson(chainView(obj as Record<string, unknown>)));
  });
});
