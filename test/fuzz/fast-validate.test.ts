import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentEvent } from '../../schemas/events/index.js';
import { FAIL, fastValidator } from '../../schemas/fast-validate.js';
import { jsonShapeProblems } from '../../schemas/json-shape.js';
import { FIXTURES, item } from './arbitraries.js';
import { materialize } from './materialize.js';

// The compiled check (schemas/fast-validate.ts) must say what zod says: it accepts exactly the
// events zod accepts, with zod's output (defaults applied, members in the schema's order), on the
// fuzz suite's events and mutations (hostile strings, values and keys anywhere, deletions).

const fast = fastValidator(AgentEvent);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** The verdicts side by side: undefined when they agree, else what differs. */
function disagreement(input: unknown): string | undefined {
  const z = AgentEvent.safeParse(input);
  const f = fast(input);
  if (f === FAIL) return z.success ? 'zod accepts, the fast check refuses' : undefined;
  if (!z.success) return `the fast check accepts, zod refuses: ${z.error.issues[0]?.message}`;
  const a = JSON.stringify(f);
  const b = JSON.stringify(z.data);
  return a === b ? undefined : `outputs differ:\n fast ${a}\n zod  ${b}`;
}

describe('fast event check', () => {
  it('agrees with zod on fuzzed events', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(item, (it) => {
        const input: unknown = JSON.parse(materialize(it, 'evt-1').text);
        // validateEvent runs zod only on input of sane shape (zod would overflow on deep nesting).
        if (jsonShapeProblems(input).length > 0) return;
        expect(disagreement(input)).toBeUndefined();
        if (fast(input) === FAIL) refused++;
        else accepted++;
      }),
      { numRuns: RUNS },
    );
    // Both sides of the check are exercised, or the property says nothing.
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(refused).toBeGreaterThan(RUNS / 10);
  });

  it('puts members in the schema order and fills defaults, as zod does', () => {
    const action = structuredClone(FIXTURES.action!) as Record<string, Record<string, unknown>>;
    const data = action.data!;
    delete data.data_classes;
    const reversed = Object.fromEntries(Object.entries(action).reverse());
    expect(disagreement(reversed)).toBeUndefined();
    expect(fast(reversed)).not.toBe(FAIL);
    const declared = structuredClone(FIXTURES['task.declared']!) as Record<string, Record<string, unknown>>;
    declared.data!.scope = {};
    expect(disagreement(declared)).toBeUndefined();
    expect(fast(declared)).not.toBe(FAIL);
  });

  it('returns an unchanged event as it came in, and copies a changed one', () => {
    const parse = (e: unknown) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    const clean = fast(AgentEvent.parse(parse(FIXTURES.action)));
    const input = parse(clean);
    expect(fast(input)).toBe(input);
    delete (input.data as Record<string, unknown>).data_classes;
    const out = fast(input) as Record<string, unknown>;
    expect(out).not.toBe(input);
    expect(out.data).toMatchObject({ data_classes: [] });
  });

  it('refuses what is not plain parsed JSON, leaving it to zod', () => {
    const action = JSON.parse(JSON.stringify(FIXTURES.action)) as Record<string, Record<string, unknown>>;
    const withProto = JSON.parse(
      JSON.stringify(action).replace('"arguments":{', '"arguments":{"__proto__":{"x":1},'),
    ) as unknown;
    expect(fast(withProto)).toBe(FAIL);
    expect(fast(Object.assign(Object.create({ inherited: 1 }), action))).toBe(FAIL);
    const extra = { ...action, collector_field: 1 };
    expect(fast(extra)).toBe(FAIL);
    expect(AgentEvent.safeParse(extra).success).toBe(false);
  });

  it('runs the refinements zod runs (first target must equal data.resource)', () => {
    const action = structuredClone(FIXTURES.action!) as Record<string, Record<string, unknown>>;
    action.data!.targets = [{ kind: 'resource', value: 'something-else' }];
    expect(fast(action)).toBe(FAIL);
    expect(AgentEvent.safeParse(action).success).toBe(false);
  });
});
