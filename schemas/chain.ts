import { createHash } from 'node:crypto';

// The per-task hash chain, specified so that any reader can verify a task's record:
//
//   1. Take the event as validated (defaults applied) and redacted, as it is stored.
//   2. Remove the fields set by the gateway or the chain itself: `hash`, `received_at`,
//      `secrets`, `entities`. Treat `prev_hash: null` as absent.
//   3. Canonical JSON: object keys sorted by UTF-16 code unit order, recursively; no whitespace;
//      `undefined` members dropped; strings and numbers as JSON.stringify writes them.
//   4. hash = lower-case hex SHA-256 of the UTF-8 bytes of that text.
//   5. Event n (seq n > 1) carries prev_hash = hash of event n-1; event 1 carries none.

export const CHAIN_EXCLUDED_FIELDS = ['hash', 'received_at', 'secrets', 'entities'] as const;

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The object the chain hash covers. */
export function chainView(event: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...event };
  for (const f of CHAIN_EXCLUDED_FIELDS) delete view[f];
  if (view.prev_hash === null) delete view.prev_hash;
  return view;
}

export function eventHash(event: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson(chainView(event)), 'utf8')
    .digest('hex');
}

export interface ChainEvent {
  seq: number;
  prev_hash?: string | null;
  hash?: string;
  [k: string]: unknown;
}

export type ChainProblem =
  | { kind: 'seq_gap'; index: number; expected: number; got: number }
  | { kind: 'hash_mismatch'; index: number; seq: number }
  | { kind: 'prev_hash_mismatch'; index: number; seq: number }
  | { kind: 'missing_hash'; index: number; seq: number };

/**
 * Verify one task's events, given in stored order (by seq). Independent of the SDK that wrote
 * them: it recomputes every hash from the specification above.
 */
export function verifyChain(events: readonly ChainEvent[]): { ok: boolean; problems: ChainProblem[] } {
  const problems: ChainProblem[] = [];
  let prev: string | undefined;
  events.forEach((event, index) => {
    const expected = index + 1;
    if (event.seq !== expected) problems.push({ kind: 'seq_gap', index, expected, got: event.seq });
    if (!event.hash) {
      problems.push({ kind: 'missing_hash', index, seq: event.seq });
    } else if (eventHash(event) !== event.hash) {
      problems.push({ kind: 'hash_mismatch', index, seq: event.seq });
    }
    const prevHash = event.prev_hash ?? undefined;
    if (prevHash !== prev) problems.push({ kind: 'prev_hash_mismatch', index, seq: event.seq });
    prev = event.hash;
  });
  return { ok: problems.length === 0, problems };
}
