import { EVENT_TYPES } from '../../../schemas/index.js';

// JSON Schemas of the query parameters, shared by the routes: every value bounded and shaped
// like what the record holds (ids, enums, slugs), so a value that cannot match anything stored
// is a 400 naming the parameter, and whatever passes is bound as a ClickHouse parameter.

const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$';

export const idParam = (description: string) =>
  ({ type: 'string', minLength: 1, maxLength: 128, pattern: ID_PATTERN, description }) as const;
const text = (description: string, maxLength = 512) =>
  ({ type: 'string', minLength: 1, maxLength, description }) as const;
const time = (description: string) =>
  ({ type: 'string', format: 'date-time', maxLength: 40, description }) as const;

export const timeRange = {
  from: time('Inclusive start, ISO-8601 with offset (e.g. 2026-11-01T10:00:00Z)'),
  to: time('Exclusive end, ISO-8601 with offset'),
} as const;

/** The agent-history filters (EventsRepository's EventFilter), all optional, all must hold. */
export const eventFilterProps = {
  agent: idParam('Agent id'),
  workload_identity: text('Workload identity (e.g. a SPIFFE ID), exact'),
  task: idParam('Task id'),
  type: { type: 'string', enum: EVENT_TYPES, description: 'Event type' },
  tool: text('Tool name, exact', 256),
  operation: {
    type: 'string',
    enum: ['read', 'write', 'execute', 'delete', 'transfer', 'delegate', 'admin'],
    description: 'Operation class',
  },
  resource: text('Resource glob (`*` within a segment, `**` across), e.g. `erp:invoices/**`'),
  destination: text('Destination glob, e.g. `https://*.example.com/**`'),
  outcome: { type: 'string', enum: ['ok', 'error', 'denied'], description: 'Action outcome' },
  data_class: {
    type: 'string',
    minLength: 1,
    maxLength: 64,
    pattern: '^[a-z][a-z0-9_.-]*$',
    description: 'Data class touched (public, internal, pii, secret, …)',
  },
  alert_rule: {
    type: 'string',
    minLength: 1,
    maxLength: 128,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
    description: 'Only events an alert of this rule names as evidence',
  },
  ...timeRange,
} as const;

export type EventFilterQuery = Partial<Record<keyof typeof eventFilterProps, string>>;

export const limitParam = (max: number, def = 100) =>
  ({ type: 'integer', minimum: 1, maximum: max, default: def, description: `Page size (1-${max})` }) as const;

export const cursorParam = {
  type: 'string',
  minLength: 1,
  maxLength: 512,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'Opaque keyset cursor: next_cursor of the previous page, with the same filters',
} as const;

export const formatParam = {
  type: 'string',
  enum: ['ndjson', 'csv'],
  description: 'Export format; else the Accept header (application/x-ndjson or text/csv); default NDJSON',
} as const;

export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

/** A stored event, rebuilt (envelope + data) as the collector sent it. */
export const eventSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['event_id', 'type', 'occurred_at', 'tenant', 'agent', 'task_id', 'seq', 'data'],
  properties: {
    event_id: { type: 'string' },
    type: { type: 'string' },
    occurred_at: { type: 'string' },
    tenant: { type: 'string' },
    task_id: { type: 'string' },
    seq: { type: 'integer' },
  },
} as const;
