import { AgentTrailError } from '../platform/errors.js';
import { notUtf8Reason } from '../platform/utf8.js';

// Request bodies: one event (JSON object), a JSON array of events, or NDJSON (one event per
// line). Parsed here rather than by fastify's default parser so a malformed body gets a 400
// that names the problem: the parser's message and position, or the NDJSON line number.

export type BodyForm = 'single' | 'array' | 'ndjson';

export interface ParsedBody {
  form: BodyForm;
  items: unknown[];
}

/**
 * The body as text, refusing bytes that are not UTF-8: decoding them would store U+FFFD in
 * place of what the collector sent, and the record would no longer be what it said.
 */
export function utf8Text(body: Buffer): string {
  const bad = notUtf8Reason(body);
  if (bad) throw malformed(`the body is ${bad}`);
  return body.toString('utf8');
}

export function parseJsonBody(text: string): ParsedBody {
  if (text.trim() === '') throw malformed('the body is empty; send an event, a JSON array or NDJSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw malformed(`invalid JSON: ${(err as Error).message}`);
  }
  return Array.isArray(value) ? { form: 'array', items: value } : { form: 'single', items: [value] };
}

export function parseNdjsonBody(text: string): ParsedBody {
  const items: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      throw malformed(`invalid NDJSON at line ${i + 1}: ${(err as Error).message}`);
    }
  }
  if (items.length === 0) throw malformed('the NDJSON body holds no events');
  return { form: 'ndjson', items };
}

function malformed(message: string) {
  return new AgentTrailError('AT_ERR_BODY_MALFORMED', message);
}
