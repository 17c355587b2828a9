import { z } from 'zod';
import { Action } from './action.js';
import { ApprovalDenied, ApprovalGranted, ApprovalRequested } from './approval.js';
import { CredentialIssued, CredentialRevoked } from './credential.js';
import { envelopeShape } from './envelope.js';
import { TaskDeclared, TaskDelegated, TaskEnded, TaskScopeChanged } from './task.js';

export * from './action.js';
export * from './adjustment.js';
export * from './approval.js';
export * from './credential.js';
export * from './envelope.js';
export * from './task.js';

/** Payload schema per event type: the single list of what v1 speaks. */
export const payloadSchemas = {
  'task.declared': TaskDeclared,
  'task.scope_changed': TaskScopeChanged,
  'task.delegated': TaskDelegated,
  'task.ended': TaskEnded,
  'credential.issued': CredentialIssued,
  'credential.revoked': CredentialRevoked,
  'approval.requested': ApprovalRequested,
  'approval.granted': ApprovalGranted,
  'approval.denied': ApprovalDenied,
  action: Action,
} as const;

export type EventType = keyof typeof payloadSchemas;
export const EVENT_TYPES = Object.keys(payloadSchemas) as EventType[];
const EVENT_TYPE_SET = new Set<unknown>(EVENT_TYPES);

/** A known event type (for structural checks that skip the full schema). */
export function isEventType(v: unknown): v is EventType {
  return EVENT_TYPE_SET.has(v);
}

/** A JSON object that is not an array. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function variant<T extends EventType>(type: T) {
  return z.strictObject({ ...envelopeShape, type: z.literal(type), data: payloadSchemas[type] });
}

export const AgentEvent = z.discriminatedUnion('type', [
  variant('task.declared'),
  variant('task.scope_changed'),
  variant('task.delegated'),
  variant('task.ended'),
  variant('credential.issued'),
  variant('credential.revoked'),
  variant('approval.requested'),
  variant('approval.granted'),
  variant('approval.denied'),
  variant('action'),
]);

/** A validated v1 event (defaults applied). */
export type AgentEvent = z.infer<typeof AgentEvent>;
/** What a collector may send (defaults not yet applied). */
export type AgentEventInput = z.input<typeof AgentEvent>;
export type EventOf<T extends EventType> = Extract<AgentEvent, { type: T }>;
export type ActionEvent = EventOf<'action'>;
