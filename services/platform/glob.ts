// Glob matching for scopes, approvals, rules and alert routes. Patterns are compiled once into
// a matcher and cached by (kind, pattern): the hot path never builds a RegExp.
//
// Three kinds of pattern; `*` and `?` stay inside one segment, `**` crosses segments:
//   - `path` (tools, resources, approver ids): segments split by `/`. Case-sensitive.
//   - `host` (egress): labels split by `.`. Case-insensitive, as DNS is.
//   - `id`   (rule ids, agent ids in alert routes): segments split by `.`, `/` or `:`.
//
// Literal values: `\*` and `\?` match a literal star or question mark, and a pattern written
// `literal:<value>` matches exactly <value> (no wildcards at all). A scope generated from values
// (learnt, copied from a ticket) writes each value with `globForValue`, so a channel named `*` or
// a path with `?` stays one value instead of becoming a wildcard.

export type GlobKind = 'path' | 'host' | 'id';
export type Matcher = (value: string) => boolean;

/** Separator characters per kind. */
const SEPARATORS: Record<GlobKind, string> = { path: '/', host: '.', id: './:' };

const MAX_CACHE = 50_000;
const cache = new Map<string, Matcher>();

const MATCH_ALL: Matcher = () => true;
const MATCH_NONE: Matcher = () => false;

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

export const LITERAL_PREFIX = 'literal:';

/** The glob that matches exactly `value`: the value itself when it has nothing to escape. */
export function globForValue(value: string): string {
  if (value.startsWith(LITERAL_PREFIX)) return `${LITERAL_PREFIX}${value}`;
  // Only `*` and `?` need escaping: a backslash before anything else stays a backslash.
  return value.includes('*') || value.includes('?') ? value.replace(/[*?]/g, '\\$&') : value;
}

/** The one value a pattern matches when it has no (unescaped) wildcard; undefined otherwise. */
export function literalOf(pattern: string): string | undefined {
  if (pattern.startsWith(LITERAL_PREFIX)) return pattern.slice(LITERAL_PREFIX.length);
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '?')) {
      out += pattern[++i];
    } else if (ch === '*' || ch === '?') {
      return undefined;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Translate one glob to a RegExp source (anchored by the caller). */
export function globToRegExpSource(pattern: string, kind: GlobKind): string {
  const seps = SEPARATORS[kind];
  const sepClass = `[${seps.replace(/[\\\]^-]/g, '\\$&')}]`;
  const notSep = `[^${seps.replace(/[\\\]^-]/g, '\\$&')}]`;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '?')) {
      out += escapeRegExp(pattern[++i]!);
    } else if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` (`**.` for hosts) also matches zero segments, so `a/**/b` matches `a/b`.
        const next = pattern[i + 1];
        if (next !== undefined && seps.includes(next)) {
          i++;
          out += `(?:.*${sepClass})?`;
        } else {
          out += '.*';
        }
      } else {
        out += `${notSep}*`;
      }
    } else if (ch === '?') {
      out += notSep;
    } else {
      out += escapeRegExp(ch);
    }
  }
  return out;
}

/** Compile one glob; cached. */
export function compileGlob(pattern: string, kind: GlobKind = 'path'): Matcher {
  const key = `${kind}\u0000${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let matcher: Matcher;
  const p = kind === 'host' ? pattern.toLowerCase() : pattern;
  if (p === '**') {
    matcher = MATCH_ALL;
  } else if (literalOf(p) !== undefined) {
    const lit = literalOf(p)!;
    matcher = kind === 'host' ? (v) => v.toLowerCase() === lit : (v) => v === lit;
  } else {
    const re = new RegExp(`^${globToRegExpSource(p, kind)}$`, kind === 'host' ? 'i' : '');
    matcher = (v) => re.test(v);
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(key, matcher);
  return matcher;
}

/**
 * Compile a list of globs into one matcher (any-of). Literal patterns go into a Set and the
 * wildcard ones into a single alternation, so matching a list costs one lookup plus one RegExp.
 */
export function compileGlobList(patterns: readonly string[] | undefined, kind: GlobKind = 'path'): Matcher {
  if (patterns === undefined) return MATCH_ALL;
  if (patterns.length === 0) return MATCH_NONE;
  if (patterns.length === 1) return compileGlob(patterns[0]!, kind);
  const key = `${kind}\u0001${patterns.join('\u0000')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let matcher: Matcher;
  if (patterns.includes('**')) {
    matcher = MATCH_ALL;
  } else {
    const literals = new Set<string>();
    const sources: string[] = [];
    for (const raw of patterns) {
      const p = kind === 'host' ? raw.toLowerCase() : raw;
      const lit = literalOf(p);
      if (lit === undefined) sources.push(globToRegExpSource(p, kind));
      else literals.add(lit);
    }
    const flags = kind === 'host' ? 'i' : '';
    const re = sources.length > 0 ? new RegExp(`^(?:${sources.join('|')})$`, flags) : undefined;
    const norm = kind === 'host' ? (v: string) => v.toLowerCase() : (v: string) => v;
    matcher = re === undefined ? (v) => literals.has(norm(v)) : (v) => literals.has(norm(v)) || re.test(v);
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(key, matcher);
  return matcher;
}

/**
 * Does glob `outer` match everything glob `inner` matches? Conservative approximation used for
 * delegation checks: equal patterns, `**`, or `outer` matching `inner` read as a literal string
 * (so `github:org/*` covers `github:org/repo-a`). An `inner` with `**` is only covered by an
 * `outer` that also has `**`, because `*` would otherwise appear to swallow it.
 */
export function globCovers(outer: string, inner: string, kind: GlobKind = 'path'): boolean {
  if (outer === inner || outer === '**') return true;
  const o = kind === 'host' ? outer.toLowerCase() : outer;
  const i = kind === 'host' ? inner.toLowerCase() : inner;
  // A literal inner (escaped or `literal:`) is covered when outer matches its one value.
  const lit = literalOf(i);
  if (lit !== undefined) return compileGlob(o, kind)(lit);
  if (inner.includes('**') && !outer.includes('**')) return false;
  if (literalOf(o) !== undefined) return false;
  return compileGlob(o, kind)(i);
}

/** Host of an egress destination: a URL, `host:port`, `user@host` (mail) or a bare host. */
export function destinationHost(destination: string): string {
  let s = destination;
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  else if (s.startsWith('mailto:')) s = s.slice(7);
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // '/', '?', '#'
    if (c === 47 || c === 63 || c === 35) {
      end = i;
      break;
    }
  }
  s = s.slice(0, end);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    return (close > 0 ? s.slice(1, close) : s).toLowerCase();
  }
  const colon = s.indexOf(':');
  if (colon >= 0) s = s.slice(0, colon);
  return s.toLowerCase();
}
