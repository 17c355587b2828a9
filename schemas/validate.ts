import type { z } from 'zod';
import { AgentEvent, EVENT_TYPES } from './events/index.js';
import { FAIL, fastValidator } from './fast-validate.js';
import { jsonShapeProblems } from './json-shape.js';

/** One problem with one field, e.g. `{ path: 'data.operation', message: 'must be one of …' }`. */
export interface FieldError {
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Turn zod issues into field-path messages a collector author can act on. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(event)';
    let message = issue.message;
    if (issue.code === 'invalid_union' && issue.path.length === 0) {
      message = 'is not a v1 event';
    } else if (issue.code === 'invalid_value' && issue.path.join('.') === 'type') {
      message = `unknown event type; expected one of ${EVENT_TYPES.join(', ')}`;
    } else if (issue.code === 'unrecognized_keys') {
      message = `unknown field(s): ${issue.keys.join(', ')}`;
    } else if (issue.code === 'invalid_type' && message.includes('received undefined')) {
      message = 'is required';
    }
    return { path, message };
  });
}

/** zod's verdict on the hot path without zod (fast-validate.ts); zod itself only for a refusal. */
const fastAgentEvent = fastValidator(AgentEvent);

/** Validate one event. Never throws; returns every problem with its field path. */
export function validateEvent(input: unknown): Validated<AgentEvent> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '(event)', message: 'must be a JSON object' }] };
  }
  const type = (input as { type?: unknown }).type;
  if (typeof type !== 'string' || !(EVENT_TYPES as string[]).includes(type)) {
    return {
      ok: false,
      errors: [
        {
          path: 'type',
          message:
            typeof type === 'string'
              ? `unknown event type '${type.slice(0, 64)}'; expected one of ${EVENT_TYPES.join(', ')}`
              : `is required; expected one of ${EVENT_TYPES.join(', ')}`,
        },
      ],
    };
  }
  // Before the schema: its refinements serialise values, which deep nesting would overflow.
  const shape = jsonShapeProblems(input);
  if (shape.length > 0) return { ok: false, errors: shape };
  const fast = fastAgentEvent(input);
  if (fast !== FAIL) return { ok: true, value: fast };
  const result = AgentEvent.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: fieldErrors(result.error) };
}

/** Compact one-line summary, for logs and dead-letter reasons. */
export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
