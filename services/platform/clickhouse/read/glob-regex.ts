import { type GlobKind, globToRegExpSource } from '../../glob.js';

// A scope glob as an anchored RE2 pattern for ClickHouse's match(): the same translation the
// detector's matcher uses (platform/glob.ts), so a search for `erp:invoices/*` finds exactly
// what a scope naming it covers. Bound as a parameter, never spliced into the query text.

export function globToClickHouseRegex(pattern: string, kind: GlobKind = 'path'): string {
  if (pattern === '**') return '^.*$';
  const source = globToRegExpSource(kind === 'host' ? pattern.toLowerCase() : pattern, kind);
  return `${kind === 'host' ? '(?i)' : ''}^${source}$`;
}
