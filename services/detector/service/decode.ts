import type { KafkaMessage } from 'kafkajs';
import { type AgentEvent, isEventType, isJsonObject } from '../../../schemas/events/index.js';
import { validateEvent } from '../../../schemas/validate.js';
import { type HashCheck, hashCheck, isValidated } from '../../platform/kafka/headers.js';
import { isUtf8 } from '../../platform/utf8.js';

// One Kafka message → an event for the engine, or why it is not one. Validation once, at the
// trust boundary (as in ingester/trusted.ts): a message with the gateway's mark holds the
// validated event as the gateway wrote it, defaults applied, so the full zod schema is not run
// again; only the envelope members the engine indexes by are checked. Unmarked messages (other
// producers, replays, tests) get the full schema. If the engine still trips over a marked event,
// the loop re-checks it with the full schema (`passesSchema`) before deciding it is a defect.

export type Decoded =
  | { event: AgentEvent; trusted: boolean; hashCheck: HashCheck | undefined }
  | { reason: 'not_json' | 'invalid_event' };

/** The members every engine path reads without checking: ids, type, order, time, agent, data. */
function looksLikeEvent(v: unknown): v is AgentEvent {
  if (!isJsonObject(v)) return false;
  const { event_id, type, tenant, task_id, seq, occurred_at, agent, data } = v;
  return (
    typeof event_id === 'string' &&
    isEventType(type) &&
    typeof tenant === 'string' &&
    typeof task_id === 'string' &&
    Number.isSafeInteger(seq) &&
    (seq as number) >= 1 &&
    typeof occurred_at === 'string' &&
    isJsonObject(agent) &&
    typeof agent.id === 'string' &&
    isJsonObject(data)
  );
}

export function decodeEvent(m: Pick<KafkaMessage, 'value' | 'headers'>): Decoded {
  // Not UTF-8 is not an event (the ingester dead-letters it): never judge U+FFFD for what was sent.
  if (m.value && !isUtf8(m.value)) return { reason: 'not_json' };
  let json: unknown;
  try {
    json = JSON.parse(m.value?.toString('utf8') ?? '');
  } catch {
    return { reason: 'not_json' };
  }
  if (isValidated(m.headers) && looksLikeEvent(json)) {
    return { event: json, trusted: true, hashCheck: hashCheck(m.headers) };
  }
  const r = validateEvent(json);
  return r.ok ? { event: r.value, trusted: false, hashCheck: undefined } : { reason: 'invalid_event' };
}

/** The full schema's verdict on an event taken on trust (after the engine failed on it). */
export function passesSchema(event: unknown): boolean {
  return validateEvent(event).ok;
}
