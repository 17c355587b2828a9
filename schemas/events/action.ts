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

/** One tool call. The action's id is the envelope's `event_id`. */
export const Action = z.strictObject({
  tool: z.string().min(1).max(256),
  operation: Operation,
  /** URI-like resource the call touches, e.g. `s3://bucket/key`, `github:org/repo`, `db:prod/users`. */
  resource: ShortText.optional(),
  /** Egress destination (host or URL) for calls that send data out. */
  destination: ShortText.optional(),
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
export type ActionData = z.infer<typeof Action>;
