import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../../../scenarios/builder.js';
import { eventHash } from '../../../../schemas/chain.js';
import type { AgentEvent } from '../../../../schemas/index.js';
import { toRow } from '../../../ingester/rows.js';
import { hashMatches } from '../../chain-hash.js';
import type { StoredEventRow } from '../event-row.js';
import { rowToEventInput } from './event-rebuild.js';

// A stored row rebuilt into the event the collector hashed, and the hash verdict kept with it.

/** The row as ClickHouse gives it back (JSONEachRow): `data` as JSON text. */
function stored(event: AgentEvent): StoredEventRow {
  const row = toRow(event, Date.parse('2026-06-01T09:00:00.000Z'));
  return { ...row, data: JSON.stringify(row.data) } as unknown as StoredEventRow;
}

function action(occurredAt: string): AgentEvent {
  const s = new TaskStream({ taskId: 'rb-1', agentId: 'a' });
  s.declared({ allow: [{ tools: ['fs.*'] }] });
  s.action({ tool: 'fs.read', operation: 'read', resource: '/tmp/x' });
  const e = { ...s.events()[1]!, occurred_at: occurredAt } as AgentEvent & Record<string, unknown>;
  e.hash = eventHash(e);
  return e;
}

describe('rowToEventInput', () => {
  it('gives back the spelling of occurred_at that was hashed, and remembers that the hash matched', () => {
    for (const spelling of ['2026-06-01T09:00:01.250Z', '2026-06-01T09:00:01Z', '2026-06-01T09:00:01.5Z']) {
      const e = rowToEventInput(stored(action(spelling)));
      expect(e.occurred_at).toBe(spelling);
      expect(eventHash(e)).toBe(e.hash);
      expect(hashMatches(e)).toBe(true);
    }
  });

  it('an altered row keeps the canonical spelling and is remembered as not matching', () => {
    const row = stored(action('2026-06-01T09:00:01Z'));
    const e = rowToEventInput({ ...row, data: row.data.replace('/tmp/x', '/tmp/y') });
    expect(e.occurred_at).toBe('2026-06-01T09:00:01.000Z');
    expect(hashMatches(e)).toBe(false);
  });

  it('hashMatches computes the verdict for an event it has not seen', () => {
    const e = action('2026-06-01T09:00:01.250Z') as unknown as Record<string, unknown>;
    expect(hashMatches(e)).toBe(true);
    expect(hashMatches({ ...e, seq: 9 } as Record<string, unknown>)).toBe(false);
    expect(hashMatches({ ...e, hash: undefined })).toBe(false);
  });
});
