import { describe, expect, it } from 'vitest';
import { syntheticMessage } from '../../../bench/ingest-events.js';
import { decodeEventMessage, POISON_REASONS, parseMessageJson } from './event-message.js';
import { VALIDATED_HEADER, validatedValue } from './headers.js';

// The one decoder and poison vocabulary of every stage (agenttrail_dropped_total{reason}).

const marked = (hash?: 'ok' | 'mismatch') => ({ [VALIDATED_HEADER]: Buffer.from(validatedValue(hash)) });

describe('parseMessageJson', () => {
  it('names empty, not UTF-8 and not JSON values with the shared reasons', () => {
    expect(POISON_REASONS).toEqual(['empty', 'unparseable', 'schema']);
    expect(parseMessageJson(null)).toMatchObject({ ok: false, reason: 'empty' });
    expect(parseMessageJson(Buffer.alloc(0))).toMatchObject({ ok: false, reason: 'empty' });
    expect(parseMessageJson(Buffer.from('{nope'))).toMatchObject({
      ok: false,
      reason: 'unparseable',
      detail: expect.stringMatching(/^not JSON: /),
    });
    expect(parseMessageJson(Buffer.from([0x7b, 0xff, 0x7d]))).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'message value is not valid UTF-8 (near byte 1)',
    });
    expect(parseMessageJson(Buffer.from('[1]'))).toEqual({ ok: true, json: [1] });
  });
});

describe('decodeEventMessage', () => {
  const value = Buffer.from(syntheticMessage('d', 1).value);
  const trust = (json: unknown) =>
    (json as { event_id?: unknown }).event_id === 'd-1' ? 'taken' : undefined;

  it('takes a marked message on the stage check, with the gateway hash verdict', () => {
    expect(decodeEventMessage({ value, headers: marked('ok') }, trust)).toEqual({
      ok: true,
      trusted: 'taken',
      hashCheck: 'ok',
    });
  });

  it('runs the full schema for unmarked messages, and for marked ones the check refuses or throws', () => {
    for (const d of [
      decodeEventMessage({ value, headers: {} }, trust),
      decodeEventMessage({ value, headers: marked() }, () => undefined),
      decodeEventMessage({ value, headers: marked() }, () => {
        throw new RangeError('too deep');
      }),
    ]) {
      expect(d).toMatchObject({ ok: true, hashCheck: undefined });
      expect(d.ok && d.event?.event_id).toBe('d-1');
    }
  });

  it('reports a schema failure with its detail and plausible event id', () => {
    const bad = Buffer.from(JSON.stringify({ type: 'action', event_id: 'e-9' }));
    const d = decodeEventMessage({ value: bad, headers: marked() }, () => undefined);
    expect(d).toMatchObject({ ok: false, reason: 'schema', eventId: 'e-9' });
    expect(!d.ok && d.detail).toMatch(/^schema: .*tenant/);
    const junk = Buffer.from(JSON.stringify({ type: 'x', event_id: 'e'.repeat(500) }));
    expect(decodeEventMessage({ value: junk })).toMatchObject({ ok: false, eventId: undefined });
  });
});
