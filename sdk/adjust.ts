import type { Adjustment } from '../schemas/index.js';
import { MAX_JSON_DEPTH } from '../schemas/json-shape.js';
import { truncate, truncateWords, utf8Bytes } from './text.js';

// What the SDK changes in an event so that it can be stored rather than lost, each change named
// in `data.adjusted` (schemas/events/adjustment.ts). Pure functions over plain JSON values.

export type { Adjustment };

const MAX_ADJUSTMENTS = 64;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Own data property, also for a key such as `__proto__` that plain assignment would not create. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Copy of a plain object with each member passed through `fix` (which may also rename the key),
 * or the object itself when nothing changed, so the common case allocates nothing.
 */
function mapMembers(
  obj: Record<string, unknown>,
  fix: (key: string, value: unknown) => [string, unknown],
): Record<string, unknown> {
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const [k, x] = fix(key, obj[key]);
    if (!out && (k !== key || x !== obj[key])) {
      out = {};
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, obj[keys[j]!]);
    }
    if (out) setOwn(out, k, x);
  }
  return out ?? obj;
}

const wellFormedKey = (k: string) => (k.isWellFormed() ? k : k.toWellFormed());

/**
 * The value with every lone surrogate, in strings and keys, replaced by U+FFFD; the same
 * reference when nothing changed. Only down to the schema's depth limit: deeper input is refused
 * by validation anyway, naming its path.
 */
export function wellFormedValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.isWellFormed() ? v : v.toWellFormed();
  if (depth >= MAX_JSON_DEPTH || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = wellFormedValue(v[i], depth + 1);
      if (x !== v[i]) {
        out ??= v.slice();
        out[i] = x;
      }
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  return mapMembers(v, (k, x) => [wellFormedKey(k), wellFormedValue(x, depth + 1)]);
}

/**
 * Lone surrogates replaced throughout an event, and where: the field of `data` or of `agent`
 * (e.g. `data.arguments`, `agent.instance`), or the envelope field. Paths stop there, so an
 * argument's key (which may be anything, even a secret) never becomes a path.
 */
export function wellFormedEvent(input: Record<string, unknown>): {
  value: Record<string, unknown>;
  adjustments: Adjustment[];
} {
  const adjustments: Adjustment[] = [];
  const value = mapMembers(input, (key, v) => {
    if ((key === 'data' || key === 'agent') && isPlainObject(v)) {
      const fixed = mapMembers(v, (field, x) => {
        const f = wellFormedKey(field);
        const y = wellFormedValue(x, 2);
        if (f !== field || y !== x) adjustments.push({ path: `${key}.${f}`, reason: 'ill_formed_unicode' });
        return [f, y];
      });
      return [key, fixed];
    }
    const fixed = wellFormedValue(v, 1);
    if (fixed !== v) adjustments.push({ path: key, reason: 'ill_formed_unicode' });
    return [key, fixed];
  });
  return { value, adjustments };
}

/** `data` with `adjustments` added to what it already lists (no duplicates, at most 64). */
export function withAdjustments(
  data: Record<string, unknown>,
  adjustments: readonly Adjustment[],
): Record<string, unknown> {
  if (adjustments.length === 0) return data;
  const listed = Array.isArray(data.adjusted) ? (data.adjusted as Adjustment[]) : [];
  const seen = new Set(listed.map((a) => `${a.path}\u0000${a.reason}`));
  const merged = [...listed];
  for (const a of adjustments) {
    const id = `${a.path}\u0000${a.reason}`;
    if (seen.has(id) || merged.length >= MAX_ADJUSTMENTS) continue;
    seen.add(id);
    merged.push(a);
  }
  return { ...data, adjusted: merged };
}

/** A text field cut to `maxLength` code units, and the adjustment that says so (none if it fit). */
export function fitText(
  path: string,
  value: string,
  maxLength: number,
  cut: (text: string, max: number) => string = (t, max) => truncate(t, { maxLength: max }),
): { value: string; adjustment?: Adjustment } {
  if (value.length <= maxLength) return { value };
  return {
    value: cut(value, maxLength),
    adjustment: { path, reason: 'truncated', original_length: value.length },
  };
}

/** Bytes of an event as sent (JSON, UTF-8). */
export const eventBytes = (event: unknown): number => utf8Bytes(JSON.stringify(event));

/** Room kept for what one more cut adds: the marker and its adjustment entry. */
const CUT_SLACK_BYTES = 160;

/**
 * An action event over `maxBytes` of JSON, cut to fit: first the output excerpt, then the error
 * (both on a code point boundary), then the arguments (replaced by `{truncated, bytes}`, as
 * oversized arguments always are). The envelope, tool, resource and outcome are never cut.
 * undefined when it already fits; the result may still be over when those alone are.
 */
export function fitActionBytes(
  event: { data: Record<string, unknown> } & Record<string, unknown>,
  maxBytes: number,
): { data: Record<string, unknown> } | undefined {
  let size = eventBytes(event);
  if (size <= maxBytes) return undefined;
  let data = event.data;
  const steps: Array<(need: number) => Adjustment | undefined> = [
    (need) => {
      const output = data.output as { excerpt?: unknown } | undefined;
      if (typeof output?.excerpt !== 'string' || output.excerpt === '') return undefined;
      const excerpt = output.excerpt;
      const cut = truncateWords(excerpt, { maxBytes: Math.max(0, utf8Bytes(excerpt) - need) });
      data = { ...data, output: { ...output, excerpt: cut } };
      return { path: 'data.output.excerpt', reason: 'truncated', original_length: excerpt.length };
    },
    (need) => {
      if (typeof data.error !== 'string' || data.error === '') return undefined;
      const error = data.error;
      data = { ...data, error: truncate(error, { maxBytes: Math.max(0, utf8Bytes(error) - need) }) };
      return { path: 'data.error', reason: 'truncated', original_length: error.length };
    },
    () => {
      if (data.arguments === undefined || (data.arguments as { truncated?: unknown }).truncated === true) {
        return undefined;
      }
      const bytes = eventBytes(data.arguments);
      data = { ...data, arguments: { truncated: true, bytes } };
      return { path: 'data.arguments', reason: 'truncated', original_bytes: bytes };
    },
  ];
  for (const step of steps) {
    const adjustment = step(size - maxBytes + CUT_SLACK_BYTES);
    if (adjustment) data = withAdjustments(data, [adjustment]);
    size = eventBytes({ ...event, data });
    if (size <= maxBytes) break;
  }
  return { ...event, data };
}
