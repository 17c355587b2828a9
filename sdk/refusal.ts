import { truncate } from './text.js';

// Reading the gateway's answer to a refused request (services/gateway/routes/events.ts): a body
// `{ code, message, results? }` where `results` holds one entry per event it names, by index in
// the request, with a status (`rejected`, `forbidden`, `too_large`; `valid` for the others) and
// field errors. A batch is all-or-nothing, so the events it does not name were not stored either
// and can be sent again without the named ones.

interface EventResult {
  index: number;
  status: string;
  errors?: Array<{ path?: unknown; message?: unknown }>;
}

const NOT_REFUSED = new Set(['valid', 'accepted']);

function results(details: unknown): EventResult[] {
  const list = (details as { results?: unknown } | null | undefined)?.results;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r): r is EventResult =>
      typeof r === 'object' && r !== null && Number.isInteger(r.index) && typeof r.status === 'string',
  );
}

/** Indexes (ascending, in range) of the events the gateway refused by name; empty if it named none. */
export function refusedIndexes(details: unknown, batchLength: number): number[] {
  const named = new Set<number>();
  for (const r of results(details)) {
    if (!NOT_REFUSED.has(r.status) && r.index >= 0 && r.index < batchLength) named.add(r.index);
  }
  return [...named].sort((a, b) => a - b);
}

const MAX_DESCRIBED = 5;

/** The gateway's message plus, per named event, its field errors: `event <id>: data.x: …`. Bounded. */
export function describeRefusal(
  message: string,
  details: unknown,
  indexes: readonly number[],
  eventIds: readonly string[],
): string {
  const byIndex = new Map(results(details).map((r) => [r.index, r]));
  const parts = indexes.slice(0, MAX_DESCRIBED).flatMap((index, i) => {
    const r = byIndex.get(index);
    if (!r) return [];
    const errors = (r.errors ?? []).map((e) => `${String(e.path)}: ${String(e.message)}`).join('; ');
    return [`event ${eventIds[i]}: ${errors || r.status}`];
  });
  if (indexes.length > MAX_DESCRIBED) parts.push(`and ${indexes.length - MAX_DESCRIBED} more`);
  return truncate(parts.length > 0 ? `${message} (${parts.join(' | ')})` : message, { maxLength: 2000 });
}
