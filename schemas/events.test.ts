import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventType } from './events/index.js';
import { validateEvent } from './validate.js';

// Accept/reject tables for the v1 event contract. Valid fixtures live in fixtures/valid (one per
// type, every optional field filled in); each reject case mutates one field of a fixture and
// names the field path the error must point at.

type Json = Record<string, unknown>;
const FIXTURES = join(import.meta.dirname, 'fixtures');
const load = (dir: string, file: string) => JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8'));
const fixture = (type: EventType): Json => load('valid', `${type}.json`);

const long = (n: number, ch = 'x') => ch.repeat(n);

/** Set a dotted path (creating nothing); `undefined` deletes the field. */
function set(obj: Json, path: string, value: unknown): Json {
  const copy = structuredClone(obj);
  const parts = path.split('.');
  let cur: Json = copy;
  for (const p of parts.slice(0, -1)) cur = cur[p] as Json;
  const last = parts.at(-1)!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return copy;
}

describe('valid fixtures', () => {
  it('has one fixture per event type', () => {
    const files = readdirSync(join(FIXTURES, 'valid')).map((f) => f.replace(/\.json$/, ''));
    expect(files.sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(EVENT_TYPES)('%s: the full fixture is accepted', (type) => {
    const r = validateEvent(fixture(type));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});

/** [description, type, path, value] — the value that must still be accepted. */
const ACCEPT: Array<[string, EventType, string, unknown]> = [
  ['event_id at its 128-char limit', 'action', 'event_id', long(128, 'e')],
  ['event_id with every allowed punctuation', 'action', 'event_id', 'a0._:@/+-z'],
  ['received_at with a +02:00 offset', 'action', 'received_at', '2026-03-01T14:00:00.123+02:00'],
  ['timestamp without fractional seconds', 'action', 'occurred_at', '2026-03-01T12:00:00Z'],
  ['seq at MAX_SAFE_INTEGER', 'action', 'seq', Number.MAX_SAFE_INTEGER],
  ['prev_hash null on seq 1', 'task.declared', 'prev_hash', null],
  ['no hash at all (a collector without chaining)', 'action', 'hash', undefined],
  ['agent with only an id', 'action', 'agent', { id: 'a' }],
  ['intent at its 4096-char limit', 'task.declared', 'data.intent', long(4096)],
  ['empty scope (defaults fill it)', 'task.declared', 'data.scope', {}],
  ['no data_classes (default [])', 'action', 'data.data_classes', undefined],
  ['arguments just under 16 KiB', 'action', 'data.arguments', { blob: long(16_000) }],
  ['output excerpt at 4096 chars', 'action', 'data.output', { excerpt: long(4096) }],
  ['unknown data class', 'action', 'data.data_classes', ['pci.cardholder']],
  [
    'approval target by tool + operation only',
    'approval.requested',
    'data.target',
    { tool: 'x', operation: 'read' },
  ],
  ['credential without scopes (default [])', 'credential.issued', 'data.scopes', undefined],
  [
    'targets: the first resource and destination targets are the legacy fields',
    'action',
    'data.targets',
    [
      { kind: 'resource', value: 'github:acme/web/issues/7' },
      { kind: 'destination', value: 'api.github.com' },
      { kind: 'resource', value: 'github:acme/web/issues/8' },
      { kind: 'recipient', value: 'https://hooks.acme.example/ci', form: 'url' },
    ],
  ],
  ['no targets at all (contract 1.0)', 'action', 'data.targets', undefined],
  [
    'scope.recipients with only some kinds (defaults fill the rest)',
    'task.declared',
    'data.scope.recipients',
    { emails: ['bob@partner.example'] },
  ],
  [
    'adjusted: a field the SDK cut to its limit',
    'action',
    'data.adjusted',
    [
      { path: 'data.resource', reason: 'truncated', original_length: 613 },
      { path: 'data.arguments', reason: 'truncated', original_bytes: 20_000 },
    ],
  ],
  [
    'adjusted: lone surrogates replaced',
    'task.declared',
    'data.adjusted',
    [{ path: 'agent.instance', reason: 'ill_formed_unicode' }],
  ],
];

describe('accept', () => {
  it.each(ACCEPT)('%s', (_d, type, path, value) => {
    const r = validateEvent(set(fixture(type), path, value));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it.each(EVENT_TYPES)('%s: accepted with only its required fields', (type) => {
    const e = fixture(type);
    for (const f of ['prev_hash', 'hash', 'trace_id', 'span_id', 'parent_task_id', 'received_at'])
      delete e[f];
    e.agent = { id: 'a' };
    const r = validateEvent(e);
    expect(r.ok).toBe(true);
  });

  it.each(EVENT_TYPES)('%s: data may say which fields the SDK adjusted', (type) => {
    const adjusted = [{ path: 'agent.model', reason: 'ill_formed_unicode' }];
    const r = validateEvent(set(fixture(type), 'data.adjusted', adjusted));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('applies defaults', () => {
    const r = validateEvent(set(set(fixture('action'), 'data.data_classes', undefined), 'seq', 1));
    expect(r.ok && r.value.type === 'action' && r.value.data.data_classes).toEqual([]);
    const d = validateEvent(set(fixture('task.declared'), 'data.scope', {}));
    expect(d.ok && d.value.type === 'task.declared' && d.value.data.scope).toEqual({
      allow: [],
      deny: [],
      egress: [],
      data_classes: [],
      approvals: { required_for: [], approvers: [], default_ttl_s: 3600 },
      limits: {},
    });
  });
});

/** [description, type, path to change, bad value, error path expected]. */
const REJECT: Array<[string, EventType, string, unknown, string]> = [
  // envelope
  ['event_id missing', 'action', 'event_id', undefined, 'event_id'],
  ['event_id empty', 'action', 'event_id', '', 'event_id'],
  ['event_id with a space', 'action', 'event_id', 'a b', 'event_id'],
  ['event_id oversize (129)', 'action', 'event_id', long(129), 'event_id'],
  ['event_id a number', 'action', 'event_id', 7, 'event_id'],
  ['schema_version 2', 'action', 'schema_version', 2, 'schema_version'],
  ['schema_version "1"', 'action', 'schema_version', '1', 'schema_version'],
  ['schema_version missing', 'action', 'schema_version', undefined, 'schema_version'],
  ['occurred_at prose', 'action', 'occurred_at', 'yesterday', 'occurred_at'],
  ['occurred_at without offset', 'action', 'occurred_at', '2026-03-01T12:00:00', 'occurred_at'],
  [
    'occurred_at with a +02:00 offset (hashed text must be UTC)',
    'action',
    'occurred_at',
    '2026-03-01T14:00:00.123+02:00',
    'occurred_at',
  ],
  ['occurred_at with microseconds', 'action', 'occurred_at', '2026-03-01T12:00:00.123456Z', 'occurred_at'],
  ['occurred_at epoch number', 'action', 'occurred_at', 1767225600000, 'occurred_at'],
  ['occurred_at missing', 'action', 'occurred_at', undefined, 'occurred_at'],
  ['received_at not a timestamp', 'action', 'received_at', 'now', 'received_at'],
  ['tenant upper-case', 'action', 'tenant', 'ACME', 'tenant'],
  ['tenant empty', 'action', 'tenant', '', 'tenant'],
  ['tenant oversize (65)', 'action', 'tenant', long(65, 'a'), 'tenant'],
  ['tenant missing', 'action', 'tenant', undefined, 'tenant'],
  ['agent missing', 'action', 'agent', undefined, 'agent'],
  ['agent a string', 'action', 'agent', 'bot', 'agent'],
  ['agent.id missing', 'action', 'agent.id', undefined, 'agent.id'],
  ['agent.id with spaces', 'action', 'agent.id', 'my bot', 'agent.id'],
  ['agent unknown field', 'action', 'agent.owner', 'x', 'agent'],
  ['agent.instance oversize (513)', 'action', 'agent.instance', long(513), 'agent.instance'],
  ['agent.workload_identity a number', 'action', 'agent.workload_identity', 1, 'agent.workload_identity'],
  ['agent.model oversize', 'action', 'agent.model', long(513), 'agent.model'],
  ['task_id missing', 'action', 'task_id', undefined, 'task_id'],
  ['task_id with a newline', 'action', 'task_id', 'a\nb', 'task_id'],
  ['parent_task_id empty', 'action', 'parent_task_id', '', 'parent_task_id'],
  ['seq 0', 'action', 'seq', 0, 'seq'],
  ['seq negative', 'action', 'seq', -1, 'seq'],
  ['seq fractional', 'action', 'seq', 1.5, 'seq'],
  ['seq a string', 'action', 'seq', '7', 'seq'],
  ['seq beyond MAX_SAFE_INTEGER', 'action', 'seq', 2 ** 53 + 2, 'seq'],
  ['seq missing', 'action', 'seq', undefined, 'seq'],
  ['prev_hash short', 'action', 'prev_hash', 'abc', 'prev_hash'],
  ['prev_hash upper-case hex', 'action', 'prev_hash', long(64, 'A'), 'prev_hash'],
  ['hash 63 chars', 'action', 'hash', long(63, 'a'), 'hash'],
  ['hash not hex', 'action', 'hash', long(64, 'z'), 'hash'],
  ['trace_id wrong length', 'action', 'trace_id', 'abc', 'trace_id'],
  ['span_id upper-case', 'action', 'span_id', 'B7AD6B7169203331', 'span_id'],
  [
    'secrets entry with a bad fingerprint',
    'action',
    'secrets',
    [{ kind: 'jwt', path: 'data', fp: 'nothex' }],
    'secrets.0.fp',
  ],
  ['secrets entry without path', 'action', 'secrets', [{ kind: 'jwt', fp: long(32, 'a') }], 'secrets.0.path'],
  [
    'secrets oversize (257)',
    'action',
    'secrets',
    Array(257).fill({ kind: 'jwt', path: 'd', fp: long(32, 'a') }),
    'secrets',
  ],
  [
    'entities entry with empty kind',
    'action',
    'entities',
    [{ kind: '', path: 'd', fp: long(32, 'a') }],
    'entities.0.kind',
  ],
  ['unknown envelope field', 'action', 'priority', 'high', '(event)'],
  ['data missing', 'action', 'data', undefined, 'data'],
  ['data an array', 'action', 'data', [], 'data'],
  // task.declared
  ['intent missing', 'task.declared', 'data.intent', undefined, 'data.intent'],
  ['intent empty', 'task.declared', 'data.intent', '', 'data.intent'],
  ['intent oversize (4097)', 'task.declared', 'data.intent', long(4097), 'data.intent'],
  ['declared_by kind robot', 'task.declared', 'data.declared_by.kind', 'robot', 'data.declared_by.kind'],
  ['declared_by without id', 'task.declared', 'data.declared_by.id', undefined, 'data.declared_by.id'],
  ['scope missing', 'task.declared', 'data.scope', undefined, 'data.scope'],
  ['scope.allow not an array', 'task.declared', 'data.scope.allow', { tools: ['x'] }, 'data.scope.allow'],
  [
    'scope entry with unknown operation',
    'task.declared',
    'data.scope.allow',
    [{ operations: ['steal'] }],
    'data.scope.allow.0.operations.0',
  ],
  [
    'scope entry with empty tools list',
    'task.declared',
    'data.scope.allow',
    [{ tools: [] }],
    'data.scope.allow.0.tools',
  ],
  ['scope unknown field', 'task.declared', 'data.scope.allow_all', true, 'data.scope'],
  ['scope egress empty glob', 'task.declared', 'data.scope.egress', [''], 'data.scope.egress.0'],
  [
    'scope data class upper-case',
    'task.declared',
    'data.scope.data_classes',
    ['PII'],
    'data.scope.data_classes.0',
  ],
  [
    'scope approvals ttl 0',
    'task.declared',
    'data.scope.approvals.default_ttl_s',
    0,
    'data.scope.approvals.default_ttl_s',
  ],
  [
    'scope limits max_actions 0',
    'task.declared',
    'data.scope.limits.max_actions',
    0,
    'data.scope.limits.max_actions',
  ],
  [
    'scope limits expires_at bad',
    'task.declared',
    'data.scope.limits.expires_at',
    'tomorrow',
    'data.scope.limits.expires_at',
  ],
  ['expires_at bad', 'task.declared', 'data.expires_at', '2026-13-01T00:00:00Z', 'data.expires_at'],
  ['label value oversize (257)', 'task.declared', 'data.labels', { k: long(257) }, 'data.labels.k'],
  ['unknown data field', 'task.declared', 'data.owner', 'x', 'data'],
  // task.scope_changed / delegated / ended
  ['scope change without reason', 'task.scope_changed', 'data.reason', undefined, 'data.reason'],
  ['scope change without changed_by', 'task.scope_changed', 'data.changed_by', undefined, 'data.changed_by'],
  ['scope change with bad approval id', 'task.scope_changed', 'data.approval_id', ' ', 'data.approval_id'],
  ['delegation without child task', 'task.delegated', 'data.child_task_id', undefined, 'data.child_task_id'],
  ['delegation without scope', 'task.delegated', 'data.scope', undefined, 'data.scope'],
  ['task end with unknown outcome', 'task.ended', 'data.outcome', 'done', 'data.outcome'],
  ['task end summary oversize', 'task.ended', 'data.summary', long(513), 'data.summary'],
  // credentials
  ['credential without expiry', 'credential.issued', 'data.expires_at', undefined, 'data.expires_at'],
  ['credential with empty kind', 'credential.issued', 'data.kind', '', 'data.kind'],
  ['credential kind oversize', 'credential.issued', 'data.kind', long(65), 'data.kind'],
  ['credential id with spaces', 'credential.issued', 'data.credential_id', 'a b', 'data.credential_id'],
  [
    'credential scopes oversize (129)',
    'credential.issued',
    'data.scopes',
    Array(129).fill('s'),
    'data.scopes',
  ],
  [
    'revocation without credential id',
    'credential.revoked',
    'data.credential_id',
    undefined,
    'data.credential_id',
  ],
  // approvals
  ['approval target empty', 'approval.requested', 'data.target', {}, 'data.target'],
  [
    'approval target tool without operation',
    'approval.requested',
    'data.target',
    { tool: 'x' },
    'data.target',
  ],
  [
    'approval target bad operation',
    'approval.requested',
    'data.target.operation',
    'steal',
    'data.target.operation',
  ],
  ['approval context oversize', 'approval.requested', 'data.context', long(4097), 'data.context'],
  ['grant without approver', 'approval.granted', 'data.approver', undefined, 'data.approver'],
  ['grant max_uses 0', 'approval.granted', 'data.max_uses', 0, 'data.max_uses'],
  ['grant max_uses 10001', 'approval.granted', 'data.max_uses', 10_001, 'data.max_uses'],
  ['grant expiry bad', 'approval.granted', 'data.expires_at', 'soon', 'data.expires_at'],
  ['denial without approver', 'approval.denied', 'data.approver', undefined, 'data.approver'],
  ['denial without approval id', 'approval.denied', 'data.approval_id', undefined, 'data.approval_id'],
  // action
  ['action tool empty', 'action', 'data.tool', '', 'data.tool'],
  ['action tool oversize (257)', 'action', 'data.tool', long(257), 'data.tool'],
  ['action operation unknown', 'action', 'data.operation', 'steal', 'data.operation'],
  ['action operation missing', 'action', 'data.operation', undefined, 'data.operation'],
  ['action outcome unknown', 'action', 'data.outcome', 'maybe', 'data.outcome'],
  ['action resource oversize (513)', 'action', 'data.resource', long(513), 'data.resource'],
  ['targets empty (omit it instead)', 'action', 'data.targets', [], 'data.targets'],
  [
    'target value empty',
    'action',
    'data.targets',
    [{ kind: 'recipient', value: '' }],
    'data.targets.0.value',
  ],
  [
    'target recipient form unknown',
    'action',
    'data.targets',
    [{ kind: 'recipient', value: 'x', form: 'phone' }],
    'data.targets.0.form',
  ],
  [
    'first destination target differs from data.destination',
    'action',
    'data.targets',
    [{ kind: 'destination', value: 'evil.example' }],
    'data.destination',
  ],
  [
    'more than 64 targets',
    'action',
    'data.targets',
    Array.from({ length: 65 }, (_, i) => ({ kind: 'recipient', value: `u${i}@acme.example` })),
    'data.targets',
  ],
  [
    'scope.recipients.emails not a list',
    'task.declared',
    'data.scope.recipients',
    { emails: 'bob@partner.example' },
    'data.scope.recipients.emails',
  ],
  ['action destination a number', 'action', 'data.destination', 443, 'data.destination'],
  ['action data class upper-case', 'action', 'data.data_classes', ['PII'], 'data.data_classes.0'],
  [
    'action data classes oversize (33)',
    'action',
    'data.data_classes',
    Array(33).fill('pii'),
    'data.data_classes',
  ],
  ['action arguments an array', 'action', 'data.arguments', ['a'], 'data.arguments'],
  [
    'action arguments oversize (> 16 KiB)',
    'action',
    'data.arguments',
    { blob: long(16_400) },
    'data.arguments',
  ],
  ['action excerpt oversize (4097)', 'action', 'data.output.excerpt', long(4097), 'data.output.excerpt'],
  [
    'action output entity bad fp',
    'action',
    'data.output.entities',
    [{ kind: 'url', fp: 'x' }],
    'data.output.entities.0.fp',
  ],
  ['action output unknown field', 'action', 'data.output.raw', 'x', 'data.output'],
  ['action output bytes negative', 'action', 'data.output.bytes', -1, 'data.output.bytes'],
  ['action latency negative', 'action', 'data.latency_ms', -5, 'data.latency_ms'],
  ['action latency over a day', 'action', 'data.latency_ms', 86_400_001, 'data.latency_ms'],
  ['action error oversize', 'action', 'data.error', long(513), 'data.error'],
  ['action credential id bad', 'action', 'data.credential_id', '', 'data.credential_id'],
  ['action unknown data field', 'action', 'data.cost', 1, 'data'],
  // adjusted (any type)
  ['adjusted not an array', 'action', 'data.adjusted', { path: 'x' }, 'data.adjusted'],
  [
    'adjusted unknown reason',
    'action',
    'data.adjusted',
    [{ path: 'data.tool', reason: 'shortened' }],
    'data.adjusted.0.reason',
  ],
  [
    'adjusted empty path',
    'task.ended',
    'data.adjusted',
    [{ path: '', reason: 'truncated' }],
    'data.adjusted.0.path',
  ],
  [
    'adjusted negative length',
    'action',
    'data.adjusted',
    [{ path: 'data.error', reason: 'truncated', original_length: -1 }],
    'data.adjusted.0.original_length',
  ],
  [
    'adjusted unknown field',
    'action',
    'data.adjusted',
    [{ path: 'data.error', reason: 'truncated', note: 'x' }],
    'data.adjusted.0',
  ],
  [
    'adjusted oversize (65)',
    'action',
    'data.adjusted',
    Array(65).fill({ path: 'data.error', reason: 'truncated' }),
    'data.adjusted',
  ],
];

describe('reject', () => {
  it.each(REJECT)('%s', (_d, type, path, value, errorPath) => {
    const r = validateEvent(set(fixture(type), path, value));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(errorPath);
  });

  it.each([
    ['unknown type', { ...fixture('action'), type: 'action.deleted' }, /unknown event type 'action.deleted'/],
    ['type missing', set(fixture('action'), 'type', undefined), /is required; expected one of/],
    ['type a number', { ...fixture('action'), type: 3 }, /is required; expected one of/],
    ['another type’s data', { ...fixture('action'), type: 'task.ended' }, /./],
  ])('%s', (_d, input, message) => {
    const r = validateEvent(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.message).join('\n')).toMatch(message);
  });

  it.each([
    ['null', null],
    ['an array', [fixture('action')]],
    ['a string', 'event'],
    ['a number', 1],
  ])('a non-object (%s) is rejected as a whole', (_d, input) => {
    expect(validateEvent(input)).toEqual({
      ok: false,
      errors: [{ path: '(event)', message: 'must be a JSON object' }],
    });
  });

  it('reports every problem of one event, each with its path', () => {
    const e = set(set(fixture('action'), 'seq', 0), 'data.operation', 'steal');
    const r = validateEvent(e);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((x) => x.path).sort()).toEqual(['data.operation', 'seq']);
  });

  it('names the unknown field', () => {
    const r = validateEvent(set(fixture('action'), 'data.cost', 1));
    expect(r.ok ? [] : r.errors).toContainEqual({ path: 'data', message: 'unknown field(s): cost' });
  });
});

describe('invalid fixtures', () => {
  const files = readdirSync(join(FIXTURES, 'invalid'));
  it.each(files)('%s is rejected at the path it names', (file) => {
    const { expect_path, event } = load('invalid', file) as { expect_path: string; event: unknown };
    const r = validateEvent(event);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(expect_path);
  });
});
