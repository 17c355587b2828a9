import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';

// Shared fast-check arbitraries: hostile strings, arbitrary JSON, and valid events (the
// schema's own fixtures) with mutations that put those strings or values anywhere in them.
// Specs stay small and printable; materialize.ts turns them into the bytes sent.

const FIXTURE_DIR = new URL('../../schemas/fixtures/valid/', import.meta.url);

/** One valid event per fixture file, by name (e.g. `action`, `task.declared`). */
export const FIXTURES: Readonly<Record<string, Record<string, unknown>>> = Object.fromEntries(
  readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(new URL(f, FIXTURE_DIR), 'utf8'))]),
);
export const FIXTURE_NAMES = Object.keys(FIXTURES);

/** Code units that break naive handling: lone surrogates, NUL and other controls, JSON syntax. */
const nastyUnit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom(
    '"',
    '\\',
    '/',
    '{',
    '[',
    ']',
    '}',
    '\u007f',
    '\u0085',
    '\u2028',
    '\u2029',
    '\ufeff',
    '\ufffd',
  ),
);

/** One string unit: usually any code point (astral included), sometimes a nasty one. */
export const unit: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: nastyUnit },
);

/** Explicit cases the random ones reach too rarely, e.g. issue 10's `erp:invoices/\ud800`. */
const namedStrings = fc.constantFrom(
  '\ud800',
  '\udc00',
  '\udbff',
  'erp:invoices/\ud800',
  'a\udc00b',
  '\udc00\ud800',
  '\ud83d\ude00',
  '\u0000',
  'a\u0000b',
  '',
  ' ',
  '\ufffd',
  'ok\r\nX-Injected: 1',
);

/** Strings around the schema's length bounds (512, 4096, 16384 bytes) and a 100 KB one. */
const longStrings = fc
  .tuple(
    fc.constantFrom(129, 257, 513, 4_097, 16_385, 100_000),
    fc.constantFrom('x', '\u0000', 'é', '😀', '\ud800'),
  )
  .map(([n, c]) => c.repeat(Math.ceil(n / c.length)).slice(0, n));

/**
 * Long repeats of what the redactor's patterns start with (tokens, JWTs, URLs with a password,
 * base64), sized to fit a valid event's arguments: a pattern that backtracks shows up as a slow
 * answer or a timeout.
 */
const baitStrings = fc
  .tuple(
    fc.constantFrom(
      'xoxb-',
      'eyJ',
      'a@',
      'https://u:',
      'A',
      ' ',
      'password=',
      'ghp_',
      '-----BEGIN ',
      'AKIA',
      '0.',
    ),
    fc.constantFrom(2_000, 16_000),
  )
  .map(([u, n]) => u.repeat(Math.ceil(n / u.length)).slice(0, n));

/** JSON nested `depth` levels, as text: what a string may hold for the redactor to decode. */
const nestedJsonText = (depth: number) => `${'{"a":['.repeat(depth)}"x"${']}'.repeat(depth)}`;

/**
 * Text the redactor decodes (JSON in a string, base64, both) or matches (token shapes, URLs
 * with credentials): nested deep, or a secret wrapped in layers.
 */
const encodedStrings = fc
  .tuple(
    fc.constantFrom(
      nestedJsonText(31),
      nestedJsonText(33),
      nestedJsonText(1_000),
      '['.repeat(5_000) + ']'.repeat(5_000),
      JSON.stringify({ password: 'hunter2-hunter2' }),
      JSON.stringify(JSON.stringify({ password: 'hunter2-hunter2' })),
      'xoxb-1234567890-abcdefghij1234',
      'AKIAIOSFODNN7EXAMPLE',
      'postgres://svc:p/a+s@s@db.internal:5432/prod',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl',
    ),
    fc.nat({ max: 3 }),
  )
  .map(([text, layers]) => {
    let out = text;
    for (let i = 0; i < layers; i++)
      out = i % 2 === 0 ? Buffer.from(out).toString('base64') : JSON.stringify(out);
    return out;
  });

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, maxLength: 24 }) },
  { weight: 2, arbitrary: namedStrings },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: longStrings },
  { weight: 1, arbitrary: encodedStrings },
  { weight: 1, arbitrary: baitStrings },
);

/** Any JSON value, strings from `unit` (lone surrogates included), shallow. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: unit }) },
  { weight: 1, arbitrary: hostileString },
);

/** Nesting of arrays or objects `depth` levels deep, written as JSON text (no recursion). */
export interface Deep {
  depth: number;
  kind: 'array' | 'object';
}
export const deep: fc.Arbitrary<Deep> = fc.record({
  // Within the gateway's limit of 64 (in data.arguments: 61), around it, and far beyond it.
  depth: fc.oneof(
    fc.integer({ min: 20, max: 61 }),
    fc.integer({ min: 60, max: 70 }),
    fc.constantFrom(1_000, 5_000, 20_000),
  ),
  kind: fc.constantFrom('array', 'object'),
});

/** A change to a valid event; `at` picks a node by index (modulo), so it shrinks to the first. */
export type Mutation =
  | { op: 'string'; at: number; value: string }
  | { op: 'text'; at: number; value: string }
  | { op: 'value'; at: number; value: unknown }
  | { op: 'key'; at: number; key: string; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'deep'; deep: Deep }
  | { op: 'bigArguments'; bytes: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('string'), at: fc.nat(), value: hostileString }) },
  // Free text the schema takes as is: these keep the event valid unless too long or ill-formed.
  { weight: 4, arbitrary: fc.record({ op: fc.constant('text'), at: fc.nat(), value: hostileString }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('value'), at: fc.nat(), value: anyJson }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('key'), at: fc.nat(), key: hostileString, value: anyJson }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete'), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep'), deep }) },
  {
    weight: 1,
    // data.arguments around its 16,384-byte bound: big valid events make the gateway split sends.
    arbitrary: fc.record({
      op: fc.constant('bigArguments'),
      bytes: fc.constantFrom(8_000, 16_000, 16_370, 16_400, 40_000),
    }),
  },
) as fc.Arbitrary<Mutation>;

/** One item of a batch: a fixture with mutations (none: a valid event), or any JSON. */
export type Item =
  | { kind: 'event'; fixture: string; mutations: Mutation[] }
  | { kind: 'json'; value: unknown };

/** Any event type; actions (tool calls, with free-form arguments) most often. */
const fixture = fc.oneof(
  { weight: 2, arbitrary: fc.constant('action') },
  { weight: 3, arbitrary: fc.constantFrom(...FIXTURE_NAMES) },
);

export const cleanEvent: fc.Arbitrary<Item> = fc.record({
  kind: fc.constant('event' as const),
  fixture,
  mutations: fc.constant([] as Mutation[]),
});

export const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 4, arbitrary: cleanEvent },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      fixture,
      mutations: fc.array(mutation, { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: anyJson }) },
);

/** Bytes that are never valid UTF-8 (overlong, CESU surrogate, truncated, out of range). */
export interface Corruption {
  at: number;
  bytes: number[];
}
export const corruption: fc.Arbitrary<Corruption> = fc.record({
  at: fc.nat(),
  bytes: fc.constantFrom(
    [0xff],
    [0x80],
    [0xc0, 0x80],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf4, 0x90, 0x80, 0x80],
  ),
});
