import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from './json-shape.js';
import { validateEvent } from './validate.js';

// Issue 10: inputs a JSON parser and the schema accepted but storage could not take (a lone
// surrogate: ClickHouse code 25, the ingester wedged) or re-serialising overflowed the stack
// (5,000 levels: RangeError in maxJsonBytes, a 500 at the gateway). Each is refused naming the field.

type Json = Record<string, unknown>;
const action = (): Json =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'valid', 'action.json'), 'utf8'));

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const errorsOf = (input: unknown) => {
  const r = validateEvent(input);
  return r.ok ? [] : r.errors;
};

describe('strings that are not well-formed Unicode', () => {
  it.each([
    [
      'a lone high surrogate in data.resource',
      (e: Json) => ((e.data as Json).resource = 'erp:invoices/\ud800'),
      'data.resource',
    ],
    ['a lone low surrogate in data.tool', (e: Json) => ((e.data as Json).tool = '\udc00tool'), 'data.tool'],
    ['a lone surrogate in agent.model', (e: Json) => ((e.agent as Json).model = 'gpt\ud83d'), 'agent.model'],
    [
      'a lone surrogate deep in data.arguments',
      (e: Json) => ((e.data as Json).arguments = { q: ['ok', { x: 'bad\ud800' }] }),
      'data.arguments.q.1.x',
    ],
    [
      'a lone surrogate in a key of data.arguments',
      (e: Json) => ((e.data as Json).arguments = { 'k\ud800': 1 }),
      'data.arguments.k\ufffd',
    ],
  ])('%s is rejected at its path', (_d, mutate, path) => {
    const e = action();
    mutate(e);
    const errors = errorsOf(e);
    expect(errors.map((x) => x.path)).toContain(path);
    expect(errors.map((x) => x.message).join('\n')).toMatch(
      /not well-formed Unicode: a lone UTF-16 surrogate/,
    );
  });

  it('accepts a surrogate pair (an emoji) and non-BMP text', () => {
    const e = action();
    (e.data as Json).resource = 'erp:invoices/\ud83d\ude00/𝄞';
    expect(validateEvent(e).ok).toBe(true);
  });
});

describe('nesting', () => {
  it('rejects 5,000 levels in data.arguments with a field error, not a stack overflow', () => {
    const e = action();
    (e.data as Json).arguments = { deep: nested(5_000) };
    const errors = errorsOf(e);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toMatch(/^data\.arguments\.deep(\.a)*$/);
    expect(errors[0]!.message).toBe(`is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`);
  });

  it('rejects 100,000 levels of arrays without recursing', () => {
    let v: unknown = [];
    for (let i = 0; i < 100_000; i++) v = [v];
    const e = action();
    (e.data as Json).arguments = { deep: v };
    expect(errorsOf(e).map((x) => x.message)).toEqual([
      `is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`,
    ]);
  });

  it('accepts arguments nested well within the limit', () => {
    const e = action();
    (e.data as Json).arguments = { deep: nested(MAX_JSON_DEPTH - 5) };
    expect(validateEvent(e).ok).toBe(true);
  });
});
