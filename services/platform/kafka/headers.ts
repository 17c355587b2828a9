import type { IHeaders } from 'kafkajs';

// The one header the gateway sets on every event it produces, `x-agenttrail-validated`:
//
//   v1              the value passed the full v1 schema (ingester/trusted.ts)
//   v1;hash=ok      … and the gateway recomputed the event's `hash` over its content
//   v1;hash=mismatch  (schemas/chain.ts): it matches, or it does not
//
// One header, not one per fact: kafkajs encodes headers per message in JavaScript, and
// `npm run bench -- kafka-client` prices them (producer CPU per message with this header and
// without: 20.5 / 18.5 µs in one run, 31.6 / 25.0 in a slower one). The event id is in the value.
//
// The events topic is an internal trust zone (anyone who can write to it can forge events and
// this header alike), so consumers may rely on it to skip work the gateway already did at the
// edge. Messages without it (other producers, replays, tests) get the full checks downstream.

/** A message's headers as the client hands them over (values are Buffers when consumed). */
export type MessageHeaders = IHeaders;

export const VALIDATED_HEADER = 'x-agenttrail-validated';
export const VALIDATED_V1 = 'v1';
/** Set by the dead-letter producer: which event a dead letter held, readable without parsing. */
export const EVENT_ID_HEADER = 'x-agenttrail-event-id';

/** The gateway's verdict on an event's own hash. */
export type HashCheck = 'ok' | 'mismatch';

const VALUES = {
  none: VALIDATED_V1,
  ok: `${VALIDATED_V1};hash=ok`,
  mismatch: `${VALIDATED_V1};hash=mismatch`,
} as const;

/** The header value for a validated event with this hash verdict (none: it carries no hash). */
export function validatedValue(hash: HashCheck | undefined): string {
  return VALUES[hash ?? 'none'];
}

type Mark = keyof typeof VALUES | undefined;

function mark(headers: IHeaders | undefined): Mark {
  const h = headers?.[VALIDATED_HEADER];
  if (h === undefined || Array.isArray(h)) return undefined;
  const s = typeof h === 'string' ? h : h.toString('latin1');
  if (s === VALUES.none) return 'none';
  if (s === VALUES.ok) return 'ok';
  if (s === VALUES.mismatch) return 'mismatch';
  return undefined;
}

/** The message carries the gateway's schema mark. */
export function isValidated(headers: IHeaders | undefined): boolean {
  return mark(headers) !== undefined;
}

/** The gateway's hash verdict, when its mark carries one. */
export function hashCheck(headers: IHeaders | undefined): HashCheck | undefined {
  const m = mark(headers);
  return m === 'ok' || m === 'mismatch' ? m : undefined;
}
