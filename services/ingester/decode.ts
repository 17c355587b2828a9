import { describeErrors, validateEvent } from '../../schemas/validate.js';
import type { EventRow } from '../platform/clickhouse/event-row.js';
import { notUtf8Reason } from '../platform/utf8.js';
import { toRow } from './rows.js';

// One Kafka message → a row, or the reason it is poison. Never throws: a bad message must
// become a dead letter, not a crash loop.

export type PoisonReason = 'empty' | 'unparseable' | 'schema';

export type Decoded =
  | { ok: true; row: EventRow }
  | { ok: false; reason: PoisonReason; detail: string; eventId?: string };

const MAX_DETAIL = 1024;

export function decodeMessage(value: Buffer | null, kafkaTimestampMs: number): Decoded {
  try {
    return decode(value, kafkaTimestampMs);
  } catch (err) {
    // A decoder defect on one message must dead-letter it, not crash the consumer for good.
    return {
      ok: false,
      reason: 'schema',
      detail: `undecodable: ${(err as Error).message}`.slice(0, MAX_DETAIL),
    };
  }
}

function decode(value: Buffer | null, kafkaTimestampMs: number): Decoded {
  if (value === null || value.length === 0) {
    return { ok: false, reason: 'empty', detail: 'message has no value' };
  }
  const notText = notUtf8Reason(value);
  if (notText) return { ok: false, reason: 'unparseable', detail: `message value is ${notText}` };
  let input: unknown;
  try {
    input = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return {
      ok: false,
      reason: 'unparseable',
      detail: `not JSON: ${(err as Error).message}`.slice(0, MAX_DETAIL),
    };
  }
  const result = validateEvent(input);
  if (!result.ok) {
    return {
      ok: false,
      reason: 'schema',
      detail: `schema: ${describeErrors(result.errors)}`.slice(0, MAX_DETAIL),
      eventId: eventIdOf(input),
    };
  }
  try {
    return { ok: true, row: toRow(result.value, kafkaTimestampMs) };
  } catch (err) {
    return {
      ok: false,
      reason: 'schema',
      detail: (err as Error).message.slice(0, MAX_DETAIL),
      eventId: result.value.event_id,
    };
  }
}

/** The event id of a message that failed validation, when it has a plausible one (for DLQ headers). */
function eventIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const id = (input as { event_id?: unknown }).event_id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}
