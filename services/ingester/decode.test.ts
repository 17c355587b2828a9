import { describe, expect, it } from 'vitest';
import { syntheticMessage } from '../../bench/ingest-events.js';
import { decodeMessage } from './decode.js';

describe('decodeMessage', () => {
  it('turns a valid event into a row', () => {
    const d = decodeMessage(Buffer.from(syntheticMessage('u', 3).value), 0);
    expect(d.ok).toBe(true);
    if (d.ok) expect(d.row.event_id).toBe('u-3');
  });

  it('reports empty, unparseable and schema-failing messages with a reason', () => {
    expect(decodeMessage(null, 0)).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodeMessage(Buffer.alloc(0), 0)).toMatchObject({ ok: false, reason: 'empty' });
    expect(decodeMessage(Buffer.from('{nope'), 0)).toMatchObject({ ok: false, reason: 'unparseable' });
    const bad = decodeMessage(Buffer.from(JSON.stringify({ type: 'action', event_id: 'e-9' })), 0);
    expect(bad).toMatchObject({ ok: false, reason: 'schema', eventId: 'e-9' });
    if (!bad.ok) expect(bad.detail).toMatch(/^schema: .*tenant/);
    expect(decodeMessage(Buffer.from('[1,2]'), 0)).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('does not trust a junk event id for DLQ headers', () => {
    const d = decodeMessage(Buffer.from(JSON.stringify({ type: 'x', event_id: 'e'.repeat(500) })), 0);
    expect(d).toMatchObject({ ok: false, eventId: undefined });
  });

  // Found by the fuzz suite: bytes that are not UTF-8 were stored with U+FFFD in their place.
  it('dead-letters a value that is not UTF-8, naming the byte, instead of storing U+FFFD', () => {
    const json = Buffer.from(syntheticMessage('u', 4).value);
    const at = json.indexOf('u-4');
    json[at] = 0xff;
    expect(decodeMessage(json, 0)).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: `message value is not valid UTF-8 (near byte ${at})`,
    });
  });
});
