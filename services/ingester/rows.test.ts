import { describe, expect, it } from 'vitest';
import { eventHash } from '../../schemas/chain.js';
import type { AgentEvent } from '../../schemas/events/index.js';
import { validateEvent } from '../../schemas/validate.js';
import { EVENT_COLUMNS, type EventRow, toClickHouseTime } from '../platform/clickhouse/event-row.js';
import { toCompact, toRow } from './rows.js';

function valid(input: Record<string, unknown>): AgentEvent {
  const r = validateEvent(input);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

const action = {
  event_id: 'ev-1',
  schema_version: 1,
  type: 'action',
  occurred_at: '2026-11-01T08:00:00.123Z',
  tenant: 'acme',
  agent: { id: 'agent-1', instance: '' },
  task_id: 'task-1',
  seq: 2,
  prev_hash: 'a'.repeat(64),
  secrets: [{ kind: 'github_pat', path: 'data.arguments.token', fp: 'ab'.repeat(8) }],
  data: {
    tool: 'http.post',
    operation: 'transfer',
    resource: 'https://api.example/upload',
    destination: 'api.example',
    data_classes: ['pii'],
    credential_id: 'cred-9',
    outcome: 'ok',
    arguments: { body: '[REDACTED]' },
  },
};

/** What a reader does: envelope columns + `data` back into an event, absent fields left out. */
function rebuild(row: EventRow): Record<string, unknown> {
  const iso = (t: string) => `${t.replace(' ', 'T')}Z`;
  const opt = <T>(v: T | null) => (v === null ? undefined : v);
  return {
    event_id: row.event_id,
    schema_version: row.schema_version,
    type: row.type,
    occurred_at: iso(row.occurred_at),
    tenant: row.tenant,
    agent: {
      id: row.agent_id,
      instance: opt(row.agent_instance),
      workload_identity: opt(row.workload_identity),
      model: opt(row.agent_model),
      framework: opt(row.agent_framework),
    },
    task_id: row.task_id,
    parent_task_id: opt(row.parent_task_id),
    seq: row.seq,
    prev_hash: opt(row.prev_hash),
    trace_id: opt(row.trace_id),
    span_id: opt(row.span_id),
    data: JSON.parse(JSON.stringify(row.data)),
  };
}

describe('toClickHouseTime', () => {
  it('writes UTC with milliseconds, converting offsets', () => {
    expect(toClickHouseTime('2026-11-01T10:00:00.123Z')).toBe('2026-11-01 10:00:00.123');
    expect(toClickHouseTime('2026-11-01T10:00:00Z')).toBe('2026-11-01 10:00:00.000');
    expect(toClickHouseTime('2026-11-01T10:00:00.5Z')).toBe('2026-11-01 10:00:00.500');
    expect(toClickHouseTime('2026-11-01T10:00:00.123+02:00')).toBe('2026-11-01 08:00:00.123');
    expect(toClickHouseTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02 03:04:05.006');
  });
  it('refuses what is not a time', () => {
    expect(() => toClickHouseTime('yesterday')).toThrow(RangeError);
  });
});

describe('toRow', () => {
  it('extracts action fields and keeps the payload whole', () => {
    const row = toRow(valid(action), Date.UTC(2026, 10, 1, 9));
    expect(row).toMatchObject({
      type: 'action',
      occurred_at: '2026-11-01 08:00:00.123',
      received_at: '2026-11-01 09:00:00.000',
      tool: 'http.post',
      operation: 'transfer',
      destination: 'api.example',
      credential_id: 'cred-9',
      approval_id: '',
      outcome: 'ok',
      data_classes: ['pii'],
      secret_kinds: ['github_pat'],
      secret_paths: ['data.arguments.token'],
      secret_fps: ['ab'.repeat(8)],
      entity_fps: [],
      agent_instance: '',
      workload_identity: null,
      hash: null,
    });
    expect(row.data).toMatchObject({ tool: 'http.post', arguments: { body: '[REDACTED]' } });
  });

  it('prefers the gateway received_at over the Kafka timestamp', () => {
    const row = toRow(valid({ ...action, received_at: '2026-11-01T08:00:01Z' }), 0);
    expect(row.received_at).toBe('2026-11-01 08:00:01.000');
  });

  it('is deterministic, so a redelivered message gives the same row', () => {
    expect(toRow(valid(action), 42)).toEqual(toRow(valid(action), 42));
  });

  it('extracts ids from non-action events', () => {
    const cred = toRow(
      valid({
        ...action,
        type: 'credential.revoked',
        data: { credential_id: 'cred-2' },
      }),
      0,
    );
    expect(cred).toMatchObject({ credential_id: 'cred-2', tool: '', operation: '', outcome: '' });
    const ended = toRow(valid({ ...action, type: 'task.ended', data: { outcome: 'completed' } }), 0);
    expect(ended.outcome).toBe('completed');
  });

  it('keeps enough to rebuild the event and re-verify its hash', () => {
    const base = { ...action, occurred_at: '2026-11-01T08:00:00.123Z' };
    const withHash = { ...base, hash: eventHash(valid(base) as unknown as Record<string, unknown>) };
    const event = valid(withHash);
    const rebuilt = rebuild(toRow(event, 0));
    expect(eventHash(rebuilt)).toBe(event.hash);
  });
});

describe('toCompact', () => {
  it('lists every field once, in EVENT_COLUMNS order', () => {
    const row = toRow(valid(action), 0);
    expect([...EVENT_COLUMNS].sort()).toEqual(Object.keys(row).sort());
    expect(toCompact(row)[0]).toBe('ev-1');
    expect(toCompact(row)).toHaveLength(Object.keys(row).length);
  });
});
