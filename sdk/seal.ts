import { type AgentEvent, eventHash, validateEvent } from '../schemas/index.js';
import { redactEvent } from '../services/platform/redaction/index.js';
import { EventValidationError } from './errors.js';

/** An event as sent: validated (defaults applied), chained, values as the agent gave them. */
export type WireEvent = AgentEvent & { hash: string };

/**
 * Validate, then hash the REDACTED form (schemas/chain.ts): the gateway stores the redacted
 * event, so that is what the chain must cover. The redactor writes only key-free placeholders,
 * so this keyless run produces exactly the bytes the gateway's keyed run will store. The event
 * itself is sent unredacted so the gateway can fingerprint the secrets it removes.
 */
export function sealEvent(input: Record<string, unknown>): WireEvent {
  const result = validateEvent(input);
  if (!result.ok) throw new EventValidationError(result.errors);
  const event = result.value;
  const hash = eventHash(redactEvent(event).event as unknown as Record<string, unknown>);
  return { ...event, hash };
}
