import fc from 'fast-check';
import { type Corruption, corruption, type Item, item, type Mutation } from './arbitraries.js';
import { corrupt, materialize } from './materialize.js';
import { previewBytes } from './preview.js';

// One request to POST /v1/events: a batch of items in some shape, or a body of its own, with a
// content type, credentials and a request id. build() turns it into what is sent and what the
// answer must be checked against.

export type Shape = 'single' | 'array' | 'ndjson';

export interface GatewayInput {
  items: Item[];
  shape: Shape;
  ndjson: { crlf: boolean; blank: boolean; trailing: boolean };
  /** Replaces the body built from items. */
  raw: { kind: 'bytes'; bytes: Uint8Array } | { kind: 'text'; text: string } | undefined;
  corruption: Corruption | undefined;
  /** 'auto': the one for the shape; null: no Content-Type header. */
  contentType: string | null;
  auth: 'ok' | 'missing' | 'wrong';
  requestId: string | undefined;
}

/** The gateway's batch limit in the fuzz config: sizes go around and past it. */
export const FUZZ_MAX_BATCH = 20;

const batch: fc.Arbitrary<Item[]> = fc.oneof(
  { weight: 6, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) },
  { weight: 2, arbitrary: fc.array(item, { minLength: 4, maxLength: FUZZ_MAX_BATCH }) },
  { weight: 1, arbitrary: fc.array(item, { minLength: FUZZ_MAX_BATCH + 1, maxLength: FUZZ_MAX_BATCH + 4 }) },
  { weight: 1, arbitrary: fc.constant<Item[]>([]) },
  {
    weight: 1,
    // Valid events near the arguments bound: a body the gateway must split into several sends.
    arbitrary: fc.integer({ min: 5, max: FUZZ_MAX_BATCH }).map((n) =>
      Array.from(
        { length: n },
        (): Item => ({
          kind: 'event',
          fixture: 'action',
          mutations: [{ op: 'bigArguments', bytes: 16_000 }],
        }),
      ),
    ),
  },
);

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('auto') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      null,
      '',
      'text/plain',
      'application/json; charset=utf-8',
      'application/json; charset=iso-8859-1',
      'APPLICATION/JSON',
      'application/ndjson',
      'application/x-ndjson',
      'application/jsonx',
      'application/json, text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.stringMatching(/^[a-z]{1,12}\/[a-z0-9.+-]{1,16}(; ?[a-z]{1,8}=[a-z0-9-]{1,8})?$/),
  },
);

const raw = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.string({ maxLength: 80 }),
        fc.constantFrom('', ' ', '\n', 'null', '[]', '{}', '[[]]', '[null]'),
      ),
    }),
  },
);

export const gatewayInput: fc.Arbitrary<GatewayInput> = fc.record({
  items: batch,
  shape: fc.constantFrom('single', 'array', 'ndjson'),
  ndjson: fc.record({ crlf: fc.boolean(), blank: fc.boolean(), trailing: fc.boolean() }),
  raw,
  corruption: fc.oneof(
    { weight: 11, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: corruption },
  ),
  contentType,
  auth: fc.oneof(
    { weight: 18, arbitrary: fc.constant('ok' as const) },
    { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'wrong' as const) },
  ),
  requestId: fc.option(fc.oneof(fc.stringMatching(/^[!-~]{1,64}$/), fc.constant('x'.repeat(300))), {
    freq: 4,
    nil: undefined,
  }),
});

export interface Built {
  body: Buffer;
  contentType: string | undefined;
  /** Event ids of the items sent, in order (undefined: not a string); undefined for a raw body. */
  ids: Array<string | undefined> | undefined;
  /** Only valid events, well formed, within limits: the gateway must accept it. */
  clean: boolean;
}

export function build(input: GatewayInput, nextId: () => string): Built {
  const contentType =
    input.contentType === 'auto'
      ? input.shape === 'ndjson'
        ? 'application/x-ndjson'
        : 'application/json'
      : (input.contentType ?? undefined);
  if (input.raw) {
    const body =
      input.raw.kind === 'bytes' ? Buffer.from(input.raw.bytes) : Buffer.from(input.raw.text, 'utf8');
    return { body, contentType, ids: undefined, clean: false };
  }
  const items = input.shape === 'single' ? input.items.slice(0, 1) : input.items;
  const made = items.map((it) => materialize(it, nextId()));
  let text: string;
  if (input.shape === 'array') text = `[${made.map((m) => m.text).join(',')}]`;
  else if (input.shape === 'single') text = made[0]?.text ?? '';
  else {
    const sep = input.ndjson.crlf ? '\r\n' : '\n';
    text = made.map((m) => m.text).join(input.ndjson.blank ? `${sep}${sep}` : sep);
    if (input.ndjson.trailing) text += sep;
  }
  let body: Buffer = Buffer.from(text, 'utf8');
  if (input.corruption) body = corrupt(body, input.corruption);
  const clean =
    !input.corruption &&
    input.contentType === 'auto' &&
    input.auth === 'ok' &&
    items.length >= 1 &&
    items.length <= FUZZ_MAX_BATCH &&
    items.every((it) => it.kind === 'event' && it.mutations.length === 0);
  return { body, contentType, ids: made.map((m) => m.eventId), clean };
}

export function describeRequest(input: GatewayInput, b: Built): string {
  return `POST /v1/events auth=${input.auth} content-type=${b.contentType ?? '(none)'} shape=${input.raw ? input.raw.kind : input.shape} items=${b.ids?.length ?? '-'} body=${previewBytes(b.body, 800)}`;
}

const base: GatewayInput = {
  items: [],
  shape: 'array',
  ndjson: { crlf: false, blank: false, trailing: false },
  raw: undefined,
  corruption: undefined,
  contentType: 'auto',
  auth: 'ok',
  requestId: undefined,
};
/** Index of `data.resource` among the action fixture's free-text strings. */
const RESOURCE = 4;
const action = (mutations: Mutation[]): Item => ({ kind: 'event', fixture: 'action', mutations });

/** Issue 10's reproductions, one input each: surrogate, deep nesting, bad bytes, empty body, a big batch. */
export const GATEWAY_EXAMPLES: GatewayInput[][] = [
  [
    {
      ...base,
      shape: 'single',
      items: [action([{ op: 'text', at: RESOURCE, value: 'erp:invoices/\ud800' }])],
    },
  ],
  [{ ...base, items: [action([{ op: 'deep', deep: { depth: 5_000, kind: 'array' } }])] }],
  [{ ...base, items: [action([])], corruption: { at: 40, bytes: [0xff] } }],
  [{ ...base, contentType: null, raw: { kind: 'text', text: '' } }],
  [
    {
      ...base,
      items: Array.from({ length: FUZZ_MAX_BATCH }, () => action([{ op: 'bigArguments', bytes: 16_000 }])),
    },
  ],
];
