import { readFileSync } from 'node:fs';

// JSON Schemas of the gateway's requests and responses. Fastify serialises responses with them
// (only declared fields leave the process), and the OpenAPI document is built from them.

/** The v1 event JSON Schema, generated from zod (schemas/json), minus its `$schema` line. */
export function eventJsonSchema(): Record<string, unknown> {
  const url = new URL('../../../schemas/json/agenttrail-event.v1.schema.json', import.meta.url);
  const { $schema: _drop, ...schema } = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  return schema;
}

const fieldError = {
  type: 'object',
  required: ['path', 'message'],
  properties: { path: { type: 'string' }, message: { type: 'string' } },
} as const;

export const eventResult = {
  type: 'object',
  required: ['index', 'status'],
  properties: {
    index: {
      type: 'integer',
      description: 'Position of the event in the request (0-based; NDJSON line order)',
    },
    status: { type: 'string', enum: ['accepted', 'valid', 'rejected', 'forbidden'] },
    event_id: { type: 'string' },
    secrets_redacted: {
      type: 'integer',
      description: 'Secrets removed from this event before it was stored',
    },
    errors: { type: 'array', items: fieldError },
  },
} as const;

export const acceptedBody = {
  type: 'object',
  required: ['accepted', 'results'],
  properties: {
    accepted: { type: 'integer', description: 'Events Kafka acknowledged (acks=all)' },
    results: { type: 'array', items: eventResult },
  },
} as const;

export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'Stable error code (AT_ERR_*), see README "Errors"' },
    message: { type: 'string' },
    retry_after_s: { type: 'integer' },
    results: {
      type: 'array',
      items: eventResult,
      description: 'Per-event outcome: which events were invalid or forbidden, and why',
    },
  },
} as const;
