import { AgentTrailError } from '../../platform/errors.js';

// The query string, parsed without surprises: `a=1&a=2` is an array (which the route schemas
// refuse for a scalar), `a[b]=1` is the key "a[b]" (refused as unknown: no nesting, ever), and a
// component that is not valid percent-encoded UTF-8 (a lone surrogate, `%ZZ`) makes the whole
// query a 400 instead of a silently dropped filter that would widen the answer.

const malformed = new WeakSet<object>();

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function parseQuery(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  let bad = false;
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decode(eq < 0 ? part : part.slice(0, eq));
    const v = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (k === undefined || v === undefined) {
      bad = true;
      continue;
    }
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  if (bad) malformed.add(out);
  return out;
}

/** preValidation: refuse a query that parseQuery could not decode. */
export function assertQueryDecoded(query: unknown): void {
  if (typeof query === 'object' && query !== null && malformed.has(query)) {
    throw new AgentTrailError(
      'AT_ERR_BAD_REQUEST',
      'the query string is not valid percent-encoded UTF-8; nothing was read',
    );
  }
}
