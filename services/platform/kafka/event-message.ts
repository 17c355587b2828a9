import type { AgentEvent } from '../../../schemas/events/index.js';
import { describeErrors, validateEvent } from '../../../schemas/validate.js';
import { notUtf8Reason } from '../utf8.js';
import { type HashCheck, hashCheck, isValidated, type MessageHeaders } from './headers.js';

// One decoder of a Kafka message for every stage, with one poison vocabulary: the reason is the
// `reason` label of agenttrail_dropped_total in the ingester, the detector and the alerter alike,
// and the detail is the DLQ's `x-agenttrail-reason` header. Never throws: a bad message must
// become a dead letter (or a count), not a crash loop.
//
//   empty        the message has no value
//   unparseable  the value is not UTF-8 text, or not JSON
//   schema       JSON, but not what the topic holds (the event, alert or status schema; or a
//                value the ingester cannot turn into a row)
//
// Events-topic messages marked by the gateway (platform/kafka/headers.ts) were validated with the
// full schema at the edge; a stage passes `trust`, its structural check of what it reads, and
// only what that check refuses (and every unmarked message) runs the full zod schema.

export const POISON_REASONS = ['empty', 'unparseable', 'schema'] as const;
export type PoisonReason = (typeof POISON_REASONS)[number];

export interface Poison {
  ok: false;
  reason: PoisonReason;
  /** For the DLQ header and logs, at most MAX_DETAIL characters. */
  detail: string;
  /** The event id of a message that failed the schema, when it carries a plausible one. */
  eventId?: string;
}

const MAX_DETAIL = 1024;

export function poison(reason: PoisonReason, detail: string, eventId?: string): Poison {
  return { ok: false, reason, detail: detail.slice(0, MAX_DETAIL), ...(eventId ? { eventId } : {}) };
}

/** A message value as JSON, or why it is not: no value, not UTF-8, not JSON. */
export function parseMessageJson(value: Buffer | null): { ok: true; json: unknown } | Poison {
  if (value === null || value.length === 0) return poison('empty', 'message has no value');
  // Never decode what is not UTF-8: U+FFFD would stand where the sender's bytes were.
  const notText = notUtf8Reason(value);
  if (notText) return poison('unparseable', `message value is ${notText}`);
  try {
    return { ok: true, json: JSON.parse(value.toString('utf8')) };
  } catch (err) {
    return poison('unparseable', `not JSON: ${(err as Error).message}`);
  }
}

/** A schema failure of `input`, naming what is wrong and, when plausible, its event id. */
export function schemaPoison(detail: string, input?: unknown): Poison {
  return { ...poison('schema', detail), eventId: eventIdOf(input) };
}

export type DecodedEvent<T> =
  /** Marked by the gateway and passed the stage's structural check: what `trust` returned. */
  | { ok: true; trusted: T; event?: undefined; hashCheck: HashCheck | undefined }
  /** Passed the full schema (defaults applied). */
  | { ok: true; trusted?: undefined; event: AgentEvent; hashCheck: undefined }
  | Poison;

export interface EventMessage {
  value: Buffer | null;
  headers?: MessageHeaders;
}

/**
 * An events-topic message as an event. `trust(json, message)` is the stage's structural check
 * for marked messages: a value to take on the gateway's word, or undefined (or a throw) to run
 * the full schema instead.
 */
export function decodeEventMessage<T, M extends EventMessage = EventMessage>(
  m: M,
  trust?: (json: unknown, m: M) => T | undefined,
): DecodedEvent<T> {
  try {
    const parsed = parseMessageJson(m.value);
    if (!parsed.ok) return parsed;
    if (trust && isValidated(m.headers)) {
      let trusted: T | undefined;
      try {
        trusted = trust(parsed.json, m);
      } catch {
        // E.g. nesting too deep to serialise: the full schema names what is wrong.
        trusted = undefined;
      }
      if (trusted !== undefined) return { ok: true, trusted, hashCheck: hashCheck(m.headers) };
    }
    const r = validateEvent(parsed.json);
    if (!r.ok) return schemaPoison(`schema: ${describeErrors(r.errors)}`, parsed.json);
    return { ok: true, event: r.value, hashCheck: undefined };
  } catch (err) {
    // A decoder defect on one message dead-letters it instead of stopping the partition.
    return poison('schema', `undecodable: ${(err as Error).message}`);
  }
}

/** The full schema's verdict on a value taken on trust (e.g. after a stage failed on it). */
export function passesEventSchema(value: unknown): boolean {
  return validateEvent(value).ok;
}

function eventIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const id = (input as { event_id?: unknown }).event_id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}
