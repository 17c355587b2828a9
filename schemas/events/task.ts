import { z } from 'zod';
import { Id, ShortText, Text, Timestamp } from '../common.js';
import { Principal, Scope } from '../scope.js';
import { Adjusted } from './adjustment.js';

export const TaskDeclared = z.strictObject({
  /** What the task is for, in the declarer's words. */
  intent: Text.min(1),
  declared_by: Principal,
  scope: Scope,
  expires_at: Timestamp.optional(),
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
  adjusted: Adjusted.optional(),
});

export const TaskScopeChanged = z.strictObject({
  scope: Scope,
  reason: Text.min(1),
  changed_by: Principal,
  /** Approval that authorised the change; a change without one is a re-validation gap. */
  approval_id: Id.optional(),
  intent: Text.optional(),
  adjusted: Adjusted.optional(),
});

export const TaskDelegated = z.strictObject({
  child_task_id: Id,
  child_agent_id: Id.optional(),
  /** The sub-scope handed to the child; must be a subset of the parent's. */
  scope: Scope,
  intent: Text.optional(),
  adjusted: Adjusted.optional(),
});

export const TaskEnded = z.strictObject({
  outcome: z.enum(['completed', 'failed', 'cancelled']),
  summary: ShortText.optional(),
  adjusted: Adjusted.optional(),
});
