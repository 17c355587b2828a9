import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('keyset cursor', () => {
  const p = { at: '2026-11-01 10:00:00.000', id: 'acme-t1.3' };
  it('round-trips under the same filters, whatever their order', () => {
    const c = encodeCursor('events', { agent: 'a', task: 't' }, p);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('events', { task: 't', agent: 'a', tool: undefined }, c)).toEqual(p);
  });
  it('refuses other filters, another kind, and edited or foreign text', () => {
    const c = encodeCursor('events', { agent: 'a' }, p);
    expect(() => decodeCursor('events', { agent: 'b' }, c)).toThrow(/other filters/);
    expect(() => decodeCursor('alerts', { agent: 'a' }, c)).toThrow(/other filters/);
    expect(() => decodeCursor('events', {}, 'bm90LWpzb24')).toThrow(/not a cursor/);
    const forged = Buffer.from(JSON.stringify({ a: "x' OR 1=1", i: 'y', f: 'z' })).toString('base64url');
    expect(() => decodeCursor('events', {}, forged)).toThrow(/not a cursor/);
  });
});
