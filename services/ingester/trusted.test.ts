import { describe, expect, it } from 'vitest';
import { gatewayMessage } from '../../bench/ingest-events.js';
import { decodeMessage } from './decode.js';
import { toLine } from './rows.js';
import { trustedLine } from './trusted.js';

const gateway = (i: number) => JSON.parse(gatewayMessage('t', i).value) as Record<string, unknown>;

describe('trustedLine', () => {
  it('gives the same line as the full schema for what the gateway produces', () => {
    for (let i = 0; i < 300; i++) {
      const value = gatewayMessage('t', i).value;
      const d = decodeMessage(Buffer.from(value), 1_700_000_000_000);
      if (!d.ok) throw new Error(d.detail);
      expect(trustedLine(JSON.parse(value), 1_700_000_000_000)).toBe(toLine(d.row));
    }
  });

  it('uses the Kafka timestamp when received_at is absent, like toRow', () => {
    const { received_at: _r, ...e } = gateway(2);
    const d = decodeMessage(Buffer.from(JSON.stringify(e)), 1_700_000_000_000);
    if (!d.ok) throw new Error(d.detail);
    expect(trustedLine(e, 1_700_000_000_000)).toBe(toLine(d.row));
  });

  it('refuses anything whose row values have the wrong type or format (the full schema then decides)', () => {
    const bad: Array<(e: Record<string, unknown>) => unknown> = [
      () => null,
      () => [1],
      (e) => ({ ...e, event_id: '' }),
      (e) => ({ ...e, event_id: 'has space' }),
      (e) => ({ ...e, schema_version: 2 }),
      (e) => ({ ...e, type: 'nope' }),
      (e) => ({ ...e, tenant: 'Upper' }),
      (e) => ({ ...e, task_id: 7 }),
      (e) => ({ ...e, seq: 0 }),
      (e) => ({ ...e, seq: 1.5 }),
      (e) => ({ ...e, occurred_at: 'yesterday' }),
      (e) => ({ ...e, received_at: 5 }),
      (e) => ({ ...e, agent: { instance: 'x' } }),
      (e) => ({ ...e, agent: { id: 'a', model: 3 } }),
      (e) => ({ ...e, hash: 1 }),
      (e) => ({ ...e, secrets: [{ kind: 'k', path: 'p' }] }),
      (e) => ({ ...e, data: 'text' }),
      (e) => ({ ...e, data: { ...(e.data as object), tool: 1 } }),
      (e) => ({ ...e, data: { ...(e.data as object), data_classes: [1] } }),
      (e) => ({ ...e, data: { ...(e.data as object), resource: null } }),
    ];
    for (const mutate of bad) expect(trustedLine(mutate(gateway(3)), 0)).toBeUndefined();
    expect(trustedLine({ ...gateway(3), type: 'credential.revoked', data: {} }, 0)).toBeUndefined();
  });
});
