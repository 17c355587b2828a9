import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../../scenarios/catalogue.js';
import { validateEvent } from '../../../schemas/validate.js';
import { VALIDATED_HEADER, validatedValue } from '../../platform/kafka/headers.js';
import { decodeEvent, passesSchema } from './decode.js';

const events = generateScenarios({ id: 'dec' }).flatMap((s) => s.events);
/** What the gateway produces: the validated event (defaults applied), as JSON. */
const stored = events.map((e) => {
  const r = validateEvent(e);
  if (!r.ok) throw new Error('scenario event is invalid');
  return r.value;
});
const marked = (hash?: 'ok' | 'mismatch') => ({ [VALIDATED_HEADER]: Buffer.from(validatedValue(hash)) });

describe('decodeEvent', () => {
  it('takes a gateway-marked event as written: the same event the full schema gives', () => {
    expect(stored.length).toBeGreaterThan(100);
    for (const e of stored) {
      const d = decodeEvent({ value: Buffer.from(JSON.stringify(e)), headers: marked() });
      expect(d).toMatchObject({ trusted: true, hashCheck: undefined });
      expect('event' in d && d.event).toEqual(e);
    }
  });

  it('passes the hash verdict of the mark on', () => {
    const value = Buffer.from(JSON.stringify(stored[0]));
    expect(decodeEvent({ value, headers: marked('ok') })).toMatchObject({ hashCheck: 'ok' });
    expect(decodeEvent({ value, headers: marked('mismatch') })).toMatchObject({ hashCheck: 'mismatch' });
  });

  it('runs the full schema without the mark, and on a marked value that is no event', () => {
    const raw = events.find((e) => e.type === 'action')!;
    const unmarked = decodeEvent({ value: Buffer.from(JSON.stringify(raw)), headers: {} });
    expect(unmarked).toMatchObject({ trusted: false });
    const bad = { ...stored[0]!, seq: 0 };
    expect(decodeEvent({ value: Buffer.from(JSON.stringify(bad)), headers: marked() })).toMatchObject({
      ok: false,
      reason: 'schema',
      detail: expect.stringContaining('seq'),
    });
    expect(decodeEvent({ value: Buffer.from('[1,2]'), headers: marked() })).toMatchObject({
      ok: false,
      reason: 'schema',
    });
  });

  it('names what is not JSON, not UTF-8 or empty, with the reasons every stage counts', () => {
    expect(decodeEvent({ value: Buffer.from('{"event_id":'), headers: marked() })).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
    expect(decodeEvent({ value: Buffer.from([0x7b, 0xff, 0x7d]), headers: marked() })).toMatchObject({
      ok: false,
      reason: 'unparseable',
    });
    expect(decodeEvent({ value: null, headers: {} })).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('passesSchema tells a marked event the schema would reject', () => {
    expect(passesSchema(stored[0])).toBe(true);
    expect(passesSchema({ ...stored[0]!, occurred_at: 'yesterday' })).toBe(false);
  });
});
