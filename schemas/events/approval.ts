import { z } from 'zod';
import { Glob, Id, Operation, Text, Timestamp } from '../common.js';
import { Adjusted } from './adjustment.js';

/** What exactly an approval is about: one action id, or a (tool, operation, resource) triple. */
export const ApprovalTarget = z
  .strictObject({
    action_id: Id.optional(),
    tool: Glob.optional(),
    operation: Operation.optional(),
    resource: Glob.optional(),
  })
  .refine((t) => t.action_id !== undefined || (t.tool !== undefined && t.operation !== undefined), {
    message: 'must name an action_id, or at least a tool and an operation',
  });
export type ApprovalTarget = z.infer<typeof ApprovalTarget>;

export const ApprovalRequested = z.strictObject({
  approval_id: Id,
  target: ApprovalTarget,
  /** Why the agent asks: what the approver is shown. */
  context: Text.optional(),
  approver: Id.optional(),
  adjusted: Adjusted.optional(),
});

export const ApprovalGranted = z.strictObject({
  approval_id: Id,
  approver: Id,
  target: ApprovalTarget,
  /** What the approver saw when approving. */
  context: Text.optional(),
  expires_at: Timestamp.optional(),
  /** How many actions the grant covers; default one. */
  max_uses: z.number().int().positive().max(10_000).default(1),
  adjusted: Adjusted.optional(),
});

export const ApprovalDenied = z.strictObject({
  approval_id: Id,
  approver: Id,
  reason: Text.optional(),
  adjusted: Adjusted.optional(),
});
