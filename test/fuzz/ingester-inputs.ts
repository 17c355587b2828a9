import fc from 'fast-check';
import type { IHeaders } from 'kafkajs';
import { VALIDATED_HEADER } from '../../services/platform/kafka/headers.js';
import { anyJson, type Corruption, corruption, type Item, item, type Mutation } from './arbitraries.js';
import { corrupt, materialize } from './materialize.js';
import { previewBytes, previewSpec } from './preview.js';

// One message produced straight to the events topic, as any producer could: an event (valid or
// mutated, cut short, with bytes that are not UTF-8), any JSON, any bytes, or nothing; with or
// without the gateway's validated header (forged: the topic is a trust zone, not a boundary).

export type Mark = 'none' | 'v1' | 'v1;hash=ok' | 'v1;hash=mismatch' | { raw: string };

export interface MessageInput {
  value:
    | {
        kind: 'event';
        item: Item;
        receivedAt: boolean;
        cut: number | undefined;
        corruption: Corruption | undefined;
      }
    | { kind: 'json'; value: unknown }
    | { kind: 'bytes'; bytes: Uint8Array }
    | { kind: 'empty' }
    | { kind: 'null' };
  mark: Mark;
  key: 'task' | 'null' | Uint8Array;
  /** Start a new producer send before this message (else it joins the previous one). */
  newSend: boolean;
}

const value: fc.Arbitrary<MessageInput['value']> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      item,
      receivedAt: fc.boolean(),
      cut: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
      corruption: fc.oneof(
        { weight: 10, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: corruption },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: anyJson }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
  },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'empty' as const }, { kind: 'null' as const }) },
);

export const messageInput: fc.Arbitrary<MessageInput> = fc.record({
  value,
  mark: fc.oneof(
    // Forged marks most often: they skip the full schema, so rows reach ClickHouse less checked.
    { weight: 5, arbitrary: fc.constant<Mark>('v1') },
    { weight: 3, arbitrary: fc.constant<Mark>('none') },
    { weight: 1, arbitrary: fc.constantFrom<Mark>('v1;hash=ok', 'v1;hash=mismatch') },
    { weight: 1, arbitrary: fc.record({ raw: fc.string({ unit: 'binary-ascii', maxLength: 12 }) }) },
  ),
  key: fc.oneof(
    { weight: 8, arbitrary: fc.constant('task' as const) },
    { weight: 1, arbitrary: fc.constant('null' as const) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  ),
  newSend: fc.boolean(),
});

export interface BuiltMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** What the ingester would read as the event id (it decodes the bytes as UTF-8 too). */
  eventId: string | undefined;
  /** Sent with the gateway's mark (a valid value or a forgery). */
  marked: boolean;
  /** The bytes were not UTF-8 (the ingester's decoding replaces them with U+FFFD). */
  notUtf8: boolean;
}

export function buildMessage(input: MessageInput, nextId: () => string): BuiltMessage {
  let bytes: Buffer | null;
  const v = input.value;
  if (v.kind === 'null') bytes = null;
  else if (v.kind === 'empty') bytes = Buffer.alloc(0);
  else if (v.kind === 'bytes') bytes = Buffer.from(v.bytes);
  else if (v.kind === 'json') bytes = Buffer.from(JSON.stringify(v.value) ?? 'null', 'utf8');
  else {
    // The gateway's stored form carries received_at; other producers may not.
    const extra = v.receivedAt ? { received_at: new Date().toISOString() } : {};
    let text = materialize(v.item, nextId(), extra).text;
    if (v.cut !== undefined) text = text.slice(0, v.cut % (text.length + 1));
    bytes = Buffer.from(text, 'utf8');
    if (v.corruption) bytes = corrupt(bytes, v.corruption);
  }
  const headers: IHeaders = {};
  if (input.mark !== 'none')
    headers[VALIDATED_HEADER] = typeof input.mark === 'string' ? input.mark : input.mark.raw;
  const key =
    input.key === 'task' ? Buffer.from('task-42') : input.key === 'null' ? null : Buffer.from(input.key);
  return {
    key,
    value: bytes,
    headers,
    eventId: eventIdOf(bytes),
    marked: input.mark !== 'none',
    notUtf8: bytes !== null && !bytes.equals(Buffer.from(bytes.toString('utf8'), 'utf8')),
  };
}

function eventIdOf(bytes: Buffer | null): string | undefined {
  if (bytes === null) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as { event_id?: unknown } | null;
    return typeof v?.event_id === 'string' ? v.event_id : undefined;
  } catch {
    return undefined;
  }
}

export function describeMessage(input: MessageInput, m: BuiltMessage): string {
  const mark = typeof input.mark === 'string' ? input.mark : `raw ${previewSpec(input.mark.raw)}`;
  const value = m.value === null ? '(null)' : previewBytes(m.value, 800);
  return `message header=${mark} key=${m.key === null ? '(null)' : previewBytes(m.key, 60)} value=${value}`;
}

/** Index of `data.resource` among the action fixture's free-text strings. */
const RESOURCE = 4;
const action = (mutations: Mutation[], mark: Mark): MessageInput => ({
  value: {
    kind: 'event',
    item: { kind: 'event', fixture: 'action', mutations },
    receivedAt: true,
    cut: undefined,
    corruption: undefined,
  },
  mark,
  key: 'task',
  newSend: true,
});

/**
 * Issue 10's poison classes, with the gateway's mark forged and without: a lone surrogate
 * (ClickHouse code 25), nesting too deep to serialise, bytes that are not UTF-8.
 */
export const INGESTER_EXAMPLES: MessageInput[][] = (['v1', 'none'] as const).flatMap((mark) => [
  [action([{ op: 'text', at: RESOURCE, value: 'erp:invoices/\ud800' }], mark)],
  [action([{ op: 'deep', deep: { depth: 5_000, kind: 'object' } }], mark)],
  [{ ...action([], mark), value: { kind: 'bytes', bytes: Uint8Array.from([0x7b, 0xff, 0x7d]) } }],
]);
