import type { FieldError } from './validate.js';

// Checks every event gets before its schema: the shape of the JSON itself. Two kinds of input
// pass a JSON parser and a zod schema yet break what comes after:
// - strings (values or keys) that are not well-formed Unicode: a lone UTF-16 surrogate, which
//   JSON allows as `\ud800`, is refused by ClickHouse (code 25) and cannot be written as UTF-8;
// - nesting so deep that serialising the event again overflows the stack (JSON.stringify,
//   the redactor's walk): a parser accepts 100,000 levels, nothing downstream does.
// The walk is iterative (no recursion limit of its own) and stops at the first few problems.

/** Deepest nesting of objects and arrays an event may hold (the envelope itself is level 1). */
export const MAX_JSON_DEPTH = 64;
const MAX_PROBLEMS = 10;

export function jsonShapeProblems(input: unknown): FieldError[] {
  const problems: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: input, path: '', depth: 0 },
  ];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) problems.push({ path: path || '(event)', message: illFormed(value) });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      problems.push({
        path: path || '(event)',
        message: `is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`,
      });
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: join(path, String(i)), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (!key.isWellFormed()) {
        problems.push({ path: join(path, key.toWellFormed()), message: `key ${illFormed(key)}` });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: join(path, key), depth: depth + 1 });
    }
  }
  return problems;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
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
