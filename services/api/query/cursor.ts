import { createHash } from 'node:crypto';
import { AgentTrailError } from '../../platform/errors.js';

// Keyset cursors, opaque to clients: the last row's sort key plus a fingerprint of the filters
// it was made under, base64url JSON. A cursor reused with other filters, or edited, is a 400
// (its page would be some other query's), never a ClickHouse error.

const CH_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$/;

export interface Position {
  /** ClickHouse DateTime64(3) text of the last row. */
  at: string;
  id: string;
}

function fingerprint(kind: string, filter: Record<string, unknown>): string {
  const keys = Object.keys(filter)
    .filter((k) => filter[k] !== undefined)
    .sort();
  const canon = JSON.stringify([kind, keys.map((k) => [k, filter[k]])]);
  return createHash('sha256').update(canon).digest('base64url').slice(0, 12);
}

export function encodeCursor(kind: string, filter: Record<string, unknown>, p: Position): string {
  return Buffer.from(JSON.stringify({ a: p.at, i: p.id, f: fingerprint(kind, filter) })).toString(
    'base64url',
  );
}

export function decodeCursor(kind: string, filter: Record<string, unknown>, cursor: string): Position {
  const bad = (why: string) => new AgentTrailError('AT_ERR_BAD_REQUEST', `cursor: ${why}`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor this API made');
  }
  const c = v as { a?: unknown; i?: unknown; f?: unknown };
  if (typeof c?.a !== 'string' || !CH_TIME.test(c.a) || typeof c.i !== 'string' || !ID.test(c.i)) {
    throw bad('not a cursor this API made');
  }
  if (c.f !== fingerprint(kind, filter)) throw bad('made for other filters; start again without it');
  return { at: c.a, id: c.i };
}
