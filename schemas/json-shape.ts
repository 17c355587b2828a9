import type { FieldError } from './validate.js';

// Checks every event gets before its schema: the shape of the JSON itself. Two kinds of input
// pass a JSON parser and a zod schema yet break what comes after:
// - strings (values or keys) that are not well-formed Unicode: a lone UTF-16 surrogate, which
//   JSON allows as `\ud800`, is refused by ClickHouse (code 25) and cannot be written as UTF-8;
// - nesting so deep that serialising the event again overflows the stack (JSON.stringify,
//   the redactor's walk): a parser accepts 100,000 levels, nothing downstream does.
// The walk recurses no deeper than MAX_JSON_DEPTH (it stops there, whatever the input's depth),
// keeps the path as a stack of segments joined only for a problem, and stops at the first few
// problems. It runs on every event the gateway takes in: building each member's path string and a
// stack entry per value (as it first did) was most of its cost.

/** Deepest nesting of objects and arrays an event may hold (the envelope itself is level 1). */
export const MAX_JSON_DEPTH = 64;
const MAX_PROBLEMS = 10;

export function jsonShapeProblems(input: unknown): FieldError[] {
  const problems: FieldError[] = [];
  walk(input, 0, [], problems);
  return problems;
}

/**
 * Depth-first in document order; an object's ill-formed keys are reported when it is reached,
 * last key first, then its other members are walked. The problems and their order are those of
 * the stack-based walk this replaced (it popped values in this order and checked the count
 * before each).
 */
function walk(value: unknown, depth: number, segs: string[], problems: FieldError[]): void {
  if (problems.length >= MAX_PROBLEMS) return;
  if (typeof value === 'string') {
    if (!value.isWellFormed()) problems.push({ path: pathOf(segs), message: illFormed(value) });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_JSON_DEPTH) {
    problems.push({
      path: pathOf(segs),
      message: `is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`,
    });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'object' && typeof v !== 'string') continue;
      segs.push(String(i));
      walk(v, depth + 1, segs, problems);
      segs.pop();
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let bad = false;
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i]!;
    if (key.isWellFormed()) continue;
    bad = true;
    segs.push(key.toWellFormed());
    problems.push({ path: pathOf(segs), message: `key ${illFormed(key)}` });
    segs.pop();
  }
  for (const key of keys) {
    const v = obj[key];
    if ((typeof v !== 'object' && typeof v !== 'string') || (bad && !key.isWellFormed())) continue;
    segs.push(key);
    walk(v, depth + 1, segs, problems);
    segs.pop();
  }
}

/** Segments joined with `.`, a segment after an empty path starting it afresh (as ever: `''` is the root). */
function pathOf(segs: string[]): string {
  let path = '';
  for (const seg of segs) path = path === '' ? seg : `${path}.${seg}`;
  return path === '' ? '(event)' : path;
}

function illFormed(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    } else if (c < 0xdc00 || c > 0xdfff) continue;
    return `is not well-formed Unicode: a lone UTF-16 surrogate (\\u${c.toString(16)}) at character ${i}; send text as valid UTF-8`;
  }
  return 'is not well-formed Unicode';
}
