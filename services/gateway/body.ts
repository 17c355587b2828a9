import { isUtf8 } from 'node:buffer';
import { AgentTrailError } from '../platform/errors.js';

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
  if (!isUtf8(body)) throw malformed(`the body is not valid UTF-8 (near byte ${firstInvalidByte(body)})`);
  return body.toString('utf8');
}

/** Offset of the first byte that starts no valid UTF-8 sequence (only called on a bad body). */
function firstInvalidByte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n =
      c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length || !isUtf8(b.subarray(i, i + n))) return i;
    i += n;
  }
  return i;
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
