import { z } from 'zod';
import { Id, SCHEMA_VERSION, Sha256Hex, ShortText, Tenant, Timestamp, UtcTimestamp } from '../common.js';

/** Who acted: the agent software, its running instance and its workload identity. */
export const Agent = z.strictObject({
  id: Id,
  instance: ShortText.optional(),
  /** Cryptographic workload identity, e.g. a SPIFFE ID. */
  workload_identity: ShortText.optional(),
  model: ShortText.optional(),
  framework: ShortText.optional(),
});
export type Agent = z.infer<typeof Agent>;

/** A secret removed by redaction, or an entity seen: its kind, where it was, and a keyed fingerprint. */
export const Sighting = z.strictObject({
  kind: z.string().min(1).max(64),
  /** JSON path inside the event, e.g. `data.arguments.headers.authorization`. */
  path: z.string().max(512),
  /** HMAC-SHA256(key, secret), hex, truncated; the same secret gives the same fingerprint. */
  fp: z.string().regex(/^[0-9a-f]{16,64}$/),
});
export type Sighting = z.infer<typeof Sighting>;

/**
 * Fields every event carries. `received_at`, `secrets` and `entities` are set by the gateway (a collector's
 * values are overwritten) and are outside the hash chain; everything else is covered by `hash`.
 */
export const envelopeShape = {
  event_id: Id,
  schema_version: z.literal(SCHEMA_VERSION, {
    message: `must be ${SCHEMA_VERSION} (this gateway speaks v1)`,
  }),
  occurred_at: UtcTimestamp,
  received_at: Timestamp.optional(),
  tenant: Tenant,
  agent: Agent,
  task_id: Id,
  parent_task_id: Id.optional(),
  /** Per-task sequence number, gap-free from 1. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** `hash` of the previous event of the task; absent (or null) on seq 1. */
  prev_hash: Sha256Hex.nullable().optional(),
  /** SHA-256 over the canonical encoding of this event (see schemas/chain.ts). */
  hash: Sha256Hex.optional(),
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'must be a 32-hex W3C trace id')
    .optional(),
  span_id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'must be a 16-hex W3C span id')
    .optional(),
  secrets: z.array(Sighting).max(256).optional(),
  /** Values (hosts, e-mails, URLs…) seen in arguments or tool output, as keyed fingerprints. */
  entities: z.array(Sighting).max(512).optional(),
};
