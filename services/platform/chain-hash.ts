import { hash } from 'node:crypto';
import { CHAIN_EXCLUDED_FIELDS } from '../../schemas/index.js';

// Every event's hash (schemas/chain.ts) is recomputed on a hot path: the gateway stamps each event
// with the verdict (kafka/headers.ts), the detector recomputes it for events without a stamp.
// This is the same canonical encoding as `canonicalJson(chainView(event))`, written for speed:
//
//   - the UTF-8 bytes are written straight into one reused buffer (JSON string escaping and UTF-8
//     encoding done here, char by char): no string is built per value, nothing to flatten or
//     re-encode before hashing, and no garbage per event;
//   - key order is learned per position (event type → top level, its `data`, `agent` …): the
//     object's own keys are compared, in insertion order, with the last object seen there, and
//     their sorted order is reused when they are the same. Any other object is sorted as usual;
//   - one-shot `crypto.hash` instead of a Hash object per event.
//
// chain-hash.test.ts proves it equal to schemas/chain.ts `eventHash` (scenario events, random
// strings with escapes and surrogates, changing key orders, inherited members). Measured on 4,000
// bench-like events (esbuild bundle, best of 5, busy 2-core machine): 3.2–3.6 µs per event, against
// 5.9–6.4 µs for the previous string encoder + createHash and 10–14 µs for the reference. Hashing
// pieces with Hash.update() instead of one buffer was slower (10.7 µs: a native call per piece).

const EXCLUDED = new Set<string>(CHAIN_EXCLUDED_FIELDS);

let buf = new Uint8Array(64 * 1024);
let pos = 0;

function reserve(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
}

const HEX = '0123456789abcdef';

function writeAscii(s: string): void {
  reserve(s.length);
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
}

/** `\uXXXX` with lower-case hex, as JSON.stringify writes control characters and lone surrogates. */
function writeEscapedUnit(b: Uint8Array, p: number, c: number): number {
  b[p] = 92; // \
  b[p + 1] = 117; // u
  b[p + 2] = HEX.charCodeAt((c >> 12) & 15);
  b[p + 3] = HEX.charCodeAt((c >> 8) & 15);
  b[p + 4] = HEX.charCodeAt((c >> 4) & 15);
  b[p + 5] = HEX.charCodeAt(c & 15);
  return p + 6;
}

/**
 * JSON.stringify(s), UTF-8 encoded. The buffer and position are held in locals for the loop:
 * module-level `let`s are re-read from the context on every store.
 */
function writeString(s: string): void {
  const n = s.length;
  reserve(n * 6 + 2); // worst case: every unit escaped as \uXXXX
  const b = buf;
  let p = pos;
  b[p++] = 34; // "
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 34 && c !== 92) {
        b[p++] = c;
        continue;
      }
      switch (c) {
        case 34:
          b[p++] = 92;
          b[p++] = 34;
          break;
        case 92:
          b[p++] = 92;
          b[p++] = 92;
          break;
        case 8:
          b[p++] = 92;
          b[p++] = 98; // b
          break;
        case 9:
          b[p++] = 92;
          b[p++] = 116; // t
          break;
        case 10:
          b[p++] = 92;
          b[p++] = 110; // n
          break;
        case 12:
          b[p++] = 92;
          b[p++] = 102; // f
          break;
        case 13:
          b[p++] = 92;
          b[p++] = 114; // r
          break;
        default:
          p = writeEscapedUnit(b, p, c);
      }
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 63);
    } else if (c < 0xd800 || c > 0xdfff) {
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 63);
      b[p++] = 0x80 | (c & 63);
    } else {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        // A well-formed surrogate pair: one code point, four UTF-8 bytes.
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        b[p++] = 0xf0 | (cp >> 18);
        b[p++] = 0x80 | ((cp >> 12) & 63);
        b[p++] = 0x80 | ((cp >> 6) & 63);
        b[p++] = 0x80 | (cp & 63);
        i++;
      } else {
        p = writeEscapedUnit(b, p, c); // lone surrogate: JSON.stringify escapes it
      }
    }
  }
  b[p++] = 34;
  pos = p;
}

/**
 * Key sets learned at one position of the event (an event type's top level, its `data`, `agent` …):
 * each with its canonical (sorted) order. `children` are the positions of nested objects.
 */
interface Shape {
  count: number;
  sig: number;
  /** Insertion order, as for…in lists it. */
  keys: string[];
  sorted: string[];
}

interface Slot {
  shapes: Shape[];
  children: Map<string, Slot> | undefined;
  depth: number;
}

const MAX_LEARNED_DEPTH = 2;
const MAX_SLOT_CHILDREN = 64;
/** Key lists remembered per position: the action payload alone has a handful (resource or not …). */
const MAX_SHAPES = 16;
const byType = new Map<string, Slot>();

function newSlot(depth: number): Slot {
  return { shapes: [], children: undefined, depth };
}

/**
 * Sorted own keys of `obj`. One for…in pass counts the keys and computes a signature of the key
 * list; a remembered list with the same count and signature is confirmed key by key (a second
 * for…in pass, identity compares only) and its sorted order reused. for…in lists own keys first,
 * then inherited enumerable ones: when the last key listed is an own member, none was inherited.
 */
function sortedKeys(obj: Record<string, unknown>, slot: Slot | undefined): string[] {
  if (slot === undefined) return Object.keys(obj).sort();
  let count = 0;
  let sig = 0;
  for (const k in obj) {
    count++;
    sig = (Math.imul(sig, 31) + k.length * 131 + k.charCodeAt(0) * 7 + k.charCodeAt(k.length - 1)) | 0;
  }
  const shapes = slot.shapes;
  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i]!;
    if (shape.count !== count || shape.sig !== sig) continue;
    const keys = shape.keys;
    let j = 0;
    for (const k in obj) {
      if (keys[j] !== k) break;
      j++;
    }
    if (j === count && (count === 0 || Object.hasOwn(obj, keys[count - 1]!))) return shape.sorted;
  }
  const keys = Object.keys(obj);
  const sorted = [...keys].sort();
  if (keys.length !== count) return sorted; // inherited members: nothing to learn
  if (shapes.length >= MAX_SHAPES) shapes.shift();
  shapes.push({ count, sig, keys, sorted });
  return sorted;
}

function childSlot(slot: Slot | undefined, key: string): Slot | undefined {
  if (slot === undefined || slot.depth >= MAX_LEARNED_DEPTH) return undefined;
  slot.children ??= new Map();
  let c = slot.children.get(key);
  if (c === undefined && slot.children.size < MAX_SLOT_CHILDREN) {
    c = newSlot(slot.depth + 1);
    slot.children.set(key, c);
  }
  return c;
}

function writeValue(value: unknown, slot: Slot | undefined): void {
  if (value === null) {
    writeAscii('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      writeString(value);
      return;
    case 'number':
      writeAscii(Number.isFinite(value) ? `${value}` : 'null');
      return;
    case 'boolean':
      writeAscii(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default: {
      // bigint throws, as in the reference; functions and symbols encode as null.
      const s = JSON.stringify(value) ?? 'null';
      writeAscii(s);
      return;
    }
  }
  if (Array.isArray(value)) {
    reserve(1);
    buf[pos++] = 91; // [
    for (let i = 0; i < value.length; i++) {
      if (i > 0) {
        reserve(1);
        buf[pos++] = 44;
      }
      const v = value[i];
      if (v === undefined) writeAscii('null');
      else writeValue(v, undefined);
    }
    reserve(1);
    buf[pos++] = 93; // ]
    return;
  }
  writeObject(value as Record<string, unknown>, slot, false);
}

function writeObject(obj: Record<string, unknown>, slot: Slot | undefined, top: boolean): void {
  const keys = sortedKeys(obj, slot);
  reserve(1);
  buf[pos++] = 123; // {
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    if (v === undefined) continue;
    if (top && (EXCLUDED.has(k) || (k === 'prev_hash' && v === null))) continue;
    if (!first) {
      reserve(1);
      buf[pos++] = 44; // ,
    }
    first = false;
    writeString(k);
    reserve(1);
    buf[pos++] = 58; // :
    writeValue(v, typeof v === 'object' && v !== null ? childSlot(slot, k) : undefined);
  }
  reserve(1);
  buf[pos++] = 125; // }
}

function encodeEvent(event: object): void {
  pos = 0;
  const type = (event as { type?: unknown }).type;
  let slot: Slot | undefined;
  if (typeof type === 'string') {
    slot = byType.get(type);
    if (slot === undefined && byType.size < 64) {
      slot = newSlot(0);
      byType.set(type, slot);
    }
  }
  writeObject(event as Record<string, unknown>, slot, true);
}

/** Canonical chain text of an event: equal to `canonicalJson(chainView(event))`. */
export function chainText(event: object): string {
  encodeEvent(event);
  return Buffer.from(buf.buffer, buf.byteOffset, pos).toString('utf8');
}

/** Equal to schemas/chain.ts `eventHash(event)`. */
export function fastEventHash(event: object): string {
  encodeEvent(event);
  return hash('sha256', buf.subarray(0, pos), 'hex') as string;
}

const utf8 = new TextEncoder();

/**
 * The canonical chain bytes of an event with `members` spliced in before its closing brace, and
 * the hash of the canonical bytes alone, from ONE encoding: `bytes` is the UTF-8 of
 * `chainText(event)` with `members` (`,"name":value…`, leading comma included) appended inside
 * the object, `hash` is `fastEventHash(event)`. The gateway stores the event in this spelling
 * (accept.ts): it is the event's JSON with sorted keys, without the chain-excluded fields and a
 * null `prev_hash`, which the caller appends with its own fields. Encoding once instead of
 * hashing and then JSON.stringify-ing the same event is what it saves; bytes rather than a string
 * because Kafka is sent bytes (no decode here and re-encode in the producer).
 */
export function chainBytesAndHash(event: object, members: string): { bytes: Buffer; hash: string } {
  encodeEvent(event);
  const hashHex = hash('sha256', buf.subarray(0, pos), 'hex') as string;
  // Over the closing brace; `{}` (no member the chain covers) takes no comma before the first.
  pos--;
  const add = pos === 1 ? members.slice(1) : members;
  reserve(add.length * 3 + 1); // UTF-8 of a UTF-16 unit is at most 3 bytes
  pos += utf8.encodeInto(add, buf.subarray(pos)).written;
  buf[pos++] = 125; // }
  return { bytes: Buffer.from(buf.subarray(0, pos)), hash: hashHex };
}

// A stored event is hashed once on its way out of ClickHouse (read/event-rebuild.ts, to restore
// the spelling of occurred_at) and again by whoever verifies its chain (the timeline, a task
// export): the first verdict is kept with the object, so a read hashes each event once.
const verdicts = new WeakMap<object, boolean>();

/** Record whether `event`, as it is now, hashes to its own `hash` (the caller just checked). */
export function rememberHashVerdict(event: object, matches: boolean): void {
  verdicts.set(event, matches);
}

/** Whether the event hashes to its own `hash`: the remembered verdict, else computed. */
export function hashMatches(event: { hash?: unknown }): boolean {
  return verdicts.get(event) ?? (typeof event.hash === 'string' && fastEventHash(event) === event.hash);
}
