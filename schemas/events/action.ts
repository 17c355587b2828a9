import { z } from 'zod';
import { DataClass, Id, maxJsonBytes, Operation, ShortText } from '../common.js';
import { Adjusted } from './adjustment.js';

export const MAX_ARGUMENTS_BYTES = 16_384;
export const MAX_OUTPUT_EXCERPT_CHARS = 4_096;

/** A value named in a tool's output (an e-mail, URL, host, account…), kept only as a fingerprint. */
export const Entity = z.strictObject({
  kind: z.string().min(1).max(32),
  fp: z.string().regex(/^[0-9a-f]{16,64}$/),
});

export const ActionOutput = z.strictObject({
  /** Redacted excerpt of what the tool returned. */
  excerpt: z.string().max(MAX_OUTPUT_EXCERPT_CHARS).optional(),
  entities: z.array(Entity).max(256).optional(),
  bytes: z.number().int().nonnegative().optional(),
  records: z.number().int().nonnegative().optional(),
});

/**
 * What a target is: a `resource` the call acts on (judged with the tool and operation against
 * scope.allow/deny), a `destination` host or URL data goes to (scope.egress, scope.recipients.urls),
 * a `recipient` (e-mail address, chat user or channel, URL: scope.recipients) or an `account`
 * (bank account number, IBAN: scope.recipients.accounts).
 */
export const TargetKind = z.enum(['resource', 'destination', 'recipient', 'account']);
export type TargetKind = z.infer<typeof TargetKind>;

/** How a recipient is matched and normalised; inferred from the value when absent. */
export const RecipientForm = z.enum(['email', 'chat_user', 'chat_channel', 'url']);
export type RecipientForm = z.infer<typeof RecipientForm>;

export const ActionTarget = z.strictObject({
  kind: TargetKind,
  value: z.string().min(1).max(512),
  /** For recipients: which list of scope.recipients it is held against (inferred when absent). */
  form: RecipientForm.optional(),
  /** Where the value came from in the call, e.g. `to`, `cc`, `bcc`, `channel`, `members` (free text). */
  role: z.string().min(1).max(64).optional(),
});
export type ActionTarget = z.infer<typeof ActionTarget>;

export const MAX_TARGETS = 64;

/** One tool call. The action's id is the envelope's `event_id`. */
const ActionShape = z.strictObject({
  tool: z.string().min(1).max(256),
  operation: Operation,
  /** URI-like resource the call touches, e.g. `s3://bucket/key`, `github:org/repo`, `db:prod/users`. */
  resource: ShortText.optional(),
  /** Egress destination (host or URL) for calls that send data out. */
  destination: ShortText.optional(),
  /**
   * Every thing the call touches (contract 1.1, additive: a 1.0 reader ignores it). When present,
   * `resource` is the first `resource` target and `destination` the first `destination` target,
   * so a reader of `resource`/`destination` alone still sees the first of each.
   */
  targets: z
    .array(ActionTarget)
    .min(1)
    .max(MAX_TARGETS)
    .optional()
    .describe(
      'Since contract 1.1 (additive to v1). Every thing the call touches; the first resource and the first destination target must equal data.resource and data.destination.',
    ),
  data_classes: z.array(DataClass).max(32).default([]),
  credential_id: Id.optional(),
  approval_id: Id.optional(),
  outcome: z.enum(['ok', 'error', 'denied']),
  /** Arguments after redaction, bounded. */
  arguments: z.record(z.string(), z.unknown()).superRefine(maxJsonBytes(MAX_ARGUMENTS_BYTES)).optional(),
  output: ActionOutput.optional(),
  latency_ms: z.number().nonnegative().max(86_400_000).optional(),
  error: ShortText.optional(),
  adjusted: Adjusted.optional(),
});

/** The first target of a kind must be the legacy field of that kind (compatibility with 1.0 readers). */
function firstTargetsAgree(a: z.infer<typeof ActionShape>, ctx: z.RefinementCtx): void {
  if (a.targets === undefined) return;
  for (const [kind, field] of [
    ['resource', 'resource'],
    ['destination', 'destination'],
  ] as const) {
    const first = a.targets.find((t) => t.kind === kind);
    if (first !== undefined && a[field] !== first.value) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `must equal the first ${kind} target ('${first.value.slice(0, 64)}'), for readers of contract 1.0`,
      });
    }
  }
}

export const Action = ActionShape.superRefine(firstTargetsAgree);
export type ActionData = z.infer<typeof Action>;
