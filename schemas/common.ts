import { z } from 'zod';

// Shared building blocks of the v1 contract. Bounds are deliberate: every string an agent
// can send is capped so one event can never become a storage or memory problem.

export const SCHEMA_VERSION = 1 as const;

/** Identifier: event ids, task ids, credential ids, approval ids. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/, 'must be 1-128 chars of letters, digits and ._:@/+-');

/** Tenant slug: lower-case, used in keys and partitions. */
export const Tenant = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a lower-case slug (a-z, 0-9, _ and -)');

/** ISO-8601 timestamp with an explicit offset (Z or +hh:mm). */
export const Timestamp = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 timestamp with offset',
});

/**
 * The envelope's event time, in UTC (`Z`), at most millisecond precision. Stricter than
 * Timestamp because it is hashed as text and also stored as DateTime64(3): with one spelling of
 * the zone the stored record reproduces the hashed bytes, so a chain verifies from storage.
 */
export const UtcTimestamp = z.iso
  .datetime({ offset: false, message: 'must be an ISO-8601 UTC timestamp ending in Z' })
  .regex(/:\d\d(\.\d{1,3})?Z$/, 'must have at most millisecond precision');

export const ShortText = z.string().max(512);
export const Text = z.string().max(4096);

/** Lower-case hex SHA-256. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)');

/** Operation classes: coarse verbs that scopes and approvals are written against. */
export const Operation = z.enum(['read', 'write', 'execute', 'delete', 'transfer', 'delegate', 'admin']);
export type Operation = z.infer<typeof Operation>;

/** Operations whose effects cannot simply be undone; the default "high impact" set. */
export const HIGH_IMPACT_OPERATIONS: readonly Operation[] = [
  'write',
  'delete',
  'transfer',
  'admin',
  'delegate',
];

/** Data classes an action touches. Open set: these are the well-known ones. */
export const DataClass = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_.-]*$/, 'must be a lower-case data class such as public, internal, pii, secret');
export const KNOWN_DATA_CLASSES = [
  'public',
  'internal',
  'confidential',
  'pii',
  'secret',
  'regulated',
] as const;

/**
 * Glob pattern over tool names, resources or hosts: `*` within a segment, `**` across. `\*` and
 * `\?` are a literal star and question mark; `literal:<value>` matches exactly <value>.
 */
export const Glob = z.string().min(1).max(512);

/** Arbitrary JSON value, bounded by the caller through `maxJsonBytes`. */
export const JsonValue: z.ZodType<unknown> = z.unknown();

export function maxJsonBytes(limit: number) {
  return (value: unknown, ctx: z.RefinementCtx) => {
    if (value === undefined) return;
    const size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
    if (size > limit) {
      ctx.addIssue({ code: 'custom', message: `is ${size} bytes of JSON; the limit is ${limit}` });
    }
  };
}
