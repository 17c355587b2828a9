import type { IHeaders } from 'kafkajs';

// The headers the gateway sets on every event it produces. The events topic is an internal
// trust zone (anyone who can write to it can forge events and these headers alike), so
// consumers may rely on them to skip work the gateway already did at the edge:
//
//   x-agenttrail-event-id   the event's id, readable without parsing the value (DLQ, tracing)
//   x-agenttrail-validated  `v1`: the value passed the full v1 schema (ingester/trusted.ts)
//   x-agenttrail-hash       `ok` | `mismatch`: the event's `hash` recomputed over its content
//                           (schemas/chain.ts) by the gateway; absent when the event has no hash
//
// Messages without them (other producers, replays, tests) get the full checks downstream.

export const EVENT_ID_HEADER = 'x-agenttrail-event-id';
export const VALIDATED_HEADER = 'x-agenttrail-validated';
export const VALIDATED_V1 = 'v1';
export const HASH_HEADER = 'x-agenttrail-hash';

/** The gateway's verdict on an event's own hash. */
export type HashCheck = 'ok' | 'mismatch';

type HeaderValue = IHeaders[string];

const VALIDATED_BYTES = Buffer.from(VALIDATED_V1);
const OK_BYTES = Buffer.from('ok');
const MISMATCH_BYTES = Buffer.from('mismatch');

function is(h: HeaderValue, text: string, bytes: Buffer): boolean {
  return typeof h === 'string' ? h === text : Buffer.isBuffer(h) && h.equals(bytes);
}

/** The message carries the gateway's schema mark. */
export function isValidated(headers: IHeaders | undefined): boolean {
  const h = headers?.[VALIDATED_HEADER];
  return h !== undefined && is(h, VALIDATED_V1, VALIDATED_BYTES);
}

/** The gateway's hash verdict, only on messages that also carry its schema mark. */
export function hashCheck(headers: IHeaders | undefined): HashCheck | undefined {
  if (!isValidated(headers)) return undefined;
  const h = headers?.[HASH_HEADER];
  if (h === undefined) return undefined;
  if (is(h, 'ok', OK_BYTES)) return 'ok';
  if (is(h, 'mismatch', MISMATCH_BYTES)) return 'mismatch';
  return undefined;
}
