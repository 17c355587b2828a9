import { type AgentEvent, isEventType, isJsonObject } from '../../../schemas/events/index.js';
import {
  decodeEventMessage,
  type EventMessage,
  type Poison,
  passesEventSchema,
} from '../../platform/kafka/event-message.js';
import type { HashCheck } from '../../platform/kafka/headers.js';

// One Kafka message → an event for the engine, or why it is not one (the one decoder and poison
// vocabulary of every stage, platform/kafka/event-message.ts). Validation once, at the trust
// boundary (as in ingester/trusted.ts): a message with the gateway's mark holds the validated
// event as the gateway wrote it, defaults applied, so the full zod schema is not run again; only
// the envelope members the engine indexes by are checked. Unmarked messages (other producers,
// replays, tests) get the full schema. If the engine still trips over a marked event, the loop
// re-checks it with the full schema (`passesSchema`) before deciding it is a defect.

export type Decoded =
  | { ok: true; event: AgentEvent; trusted: boolean; hashCheck: HashCheck | undefined }
  | Poison;

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

const trust = (json: unknown) => (looksLikeEvent(json) ? json : undefined);

export function decodeEvent(m: EventMessage): Decoded {
  const d = decodeEventMessage(m, trust);
  if (!d.ok) return d;
  if (d.trusted) return { ok: true, event: d.trusted, trusted: true, hashCheck: d.hashCheck };
  return { ok: true, event: d.event, trusted: false, hashCheck: undefined };
}

/** The full schema's verdict on an event taken on trust (after the engine failed on it). */
export const passesSchema = passesEventSchema;
