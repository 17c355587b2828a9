import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../schemas/validate.js';
import { cleanEvent, corruption, FIXTURE_NAMES, item } from './arbitraries.js';
import { GATEWAY_EXAMPLES } from './gateway-inputs.js';
import { corrupt, deepText, materialize } from './materialize.js';
import { preview } from './preview.js';

// The fuzz suite's own oracles rest on these: a "clean" item is a valid event (the gateway must
// accept it), every item is JSON text, and a corruption is never valid UTF-8.

describe('fuzz arbitraries', () => {
  it('has a fixture per event type', () => {
    expect(FIXTURE_NAMES.length).toBeGreaterThanOrEqual(10);
  });

  it('a clean item is a valid event, with the id it was given', () => {
    fc.assert(
      fc.property(cleanEvent, fc.nat(), (it, n) => {
        const m = materialize(it, `evt-${n}`);
        expect(validateEvent(JSON.parse(m.text)).ok).toBe(true);
        expect(m.eventId).toBe(`evt-${n}`);
      }),
    );
  });

  it('a free-text mutation with plain text keeps the event valid', () => {
    for (const fixture of FIXTURE_NAMES) {
      const m = materialize(
        { kind: 'event', fixture, mutations: [{ op: 'text', at: 0, value: 'plain text' }] },
        'evt-1',
      );
      expect(validateEvent(JSON.parse(m.text)).ok, fixture).toBe(true);
    }
  });

  it("the examples' surrogate lands in data.resource", () => {
    const m = materialize(GATEWAY_EXAMPLES[0]![0]!.items[0]!, 'evt-1');
    expect(JSON.parse(m.text).data.resource).toBe('erp:invoices/\ud800');
  });

  it('every item is JSON text', () => {
    fc.assert(
      fc.property(item, (it) => {
        expect(() => JSON.parse(materialize(it, 'evt-1').text)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('deep nesting is written without recursion, as deep as asked', () => {
    const m = materialize(
      {
        kind: 'event',
        fixture: 'action',
        mutations: [{ op: 'deep', deep: { depth: 20_000, kind: 'object' } }],
      },
      'evt-1',
    );
    expect(m.text).toContain(deepText({ depth: 20_000, kind: 'object' }));
  });

  it('a corruption is never valid UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), corruption, (s, c) => {
        expect(isUtf8(corrupt(Buffer.from(s), c))).toBe(false);
      }),
    );
  });

  it('previews are bounded and show repeats and lone surrogates', () => {
    expect(preview(`a${'\ud800'.repeat(100)}${'x'.repeat(100_000)}`)).toBe('a(\\ud800×100)(x×100000)');
    expect(preview('y'.repeat(5_000).split('').join(' '), 100).length).toBeLessThan(130);
  });
});
