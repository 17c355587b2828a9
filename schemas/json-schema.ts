import { z } from 'zod';
import { Alert } from './alert.js';
import { AlertStatusMessage } from './alert-status.js';
import { AgentEvent } from './events/index.js';
import { Scope } from './scope.js';

// JSON Schema generated from the zod contract, for collectors in other languages.
// `npm run schemas:export` writes schemas/json/; a unit test fails when the files are stale.

export const JSON_SCHEMA_FILES = {
  'agenttrail-event.v1.schema.json': AgentEvent,
  'agenttrail-scope.v1.schema.json': Scope,
  'agenttrail-alert.v1.schema.json': Alert,
  'agenttrail-alert-status.v1.schema.json': AlertStatusMessage,
} as const;

export function renderJsonSchema(schema: z.ZodType): string {
  // `io: 'input'`: describe what a collector may send (fields with defaults are optional).
  return `${JSON.stringify(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), null, 2)}\n`;
}
