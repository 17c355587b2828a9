import { type AgentEvent, eventHash, validateEvent } from '../schemas/index.js';
import { redactEvent } from '../services/platform/redaction/index.js';
import { eventBytes, fitActionBytes, wellFormedEvent, withAdjustments } from './adjust.js';
import { EventValidationError } from './errors.js';

/** An event as sent: validated (defaults applied), chained, values as the agent gave them. */
export type WireEvent = AgentEvent & { hash: string };

export interface SealOptions {
  /** Most bytes of JSON the sealed event may take; an action over it is cut to fit (adjust.ts). */
  maxBytes?: number;
}

/** `,"hash":"<64 hex>"`: what sealing adds after the size is measured. */
const HASH_MEMBER_BYTES = 74;

/** Size of each sealed event as sent, measured once while sealing (the outbox batches by it). */
const sizes = new WeakMap<WireEvent, number>();

/** Bytes of JSON of a sealed event (measured when it was sealed, else now). */
export function sealedBytes(event: WireEvent): number {
  return sizes.get(event) ?? eventBytes(event);
}

function validated(input: Record<string, unknown>): AgentEvent {
  const result = validateEvent(input);
  if (!result.ok) throw new EventValidationError(result.errors);
  return result.value;
}

/**
 * Repair, validate, then hash the REDACTED form (schemas/chain.ts): the gateway stores the
 * redacted event, so that is what the chain must cover. The redactor writes only key-free
 * placeholders, so this keyless run produces exactly the bytes the gateway's keyed run will
 * store. The event itself is sent unredacted so the gateway can fingerprint the secrets it removes.
 *
 * Repairs come first, so the hash covers what is stored: lone surrogates become U+FFFD (the
 * gateway refuses text that is not well-formed Unicode, and it cannot be stored), and an action
 * over `maxBytes` is cut to fit; each change is listed in `data.adjusted`.
 */
export function sealEvent(input: Record<string, unknown>, opts: SealOptions = {}): WireEvent {
  const repaired = wellFormedEvent(input);
  let value = repaired.value;
  if (repaired.adjustments.length > 0 && isRecord(value.data)) {
    value = { ...value, data: withAdjustments(value.data, repaired.adjustments) };
  }
  let event = validated(value);
  let bytes = eventBytes(event);
  if (opts.maxBytes !== undefined && event.type === 'action' && bytes + HASH_MEMBER_BYTES > opts.maxBytes) {
    const fitted = fitActionBytes(event as never, opts.maxBytes - HASH_MEMBER_BYTES);
    if (fitted) {
      event = validated(fitted);
      bytes = eventBytes(event);
    }
  }
  const hash = eventHash(redactEvent(event).event as unknown as Record<string, unknown>);
  const sealed: WireEvent = { ...event, hash };
  sizes.set(sealed, bytes + HASH_MEMBER_BYTES);
  return sealed;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
