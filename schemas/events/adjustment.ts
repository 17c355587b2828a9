import { z } from 'zod';

/**
 * A field the recording SDK changed so that the event could be stored, instead of losing the
 * event: cut to its limit (`truncated`), or lone UTF-16 surrogates replaced by U+FFFD
 * (`ill_formed_unicode`). Part of `data`, so it is hashed and stored with the event.
 */
export const Adjustment = z.strictObject({
  /** The field, as in validation errors: `data.resource`, `data.arguments`, `agent.instance`. */
  path: z.string().min(1).max(256),
  reason: z.enum(['truncated', 'ill_formed_unicode']),
  /** Length before the cut, in UTF-16 code units (as the schema's text limits count). */
  original_length: z.number().int().nonnegative().optional(),
  /** Size before the cut, in bytes of JSON (`arguments`). */
  original_bytes: z.number().int().nonnegative().optional(),
});
export type Adjustment = z.infer<typeof Adjustment>;

/** Optional on every event type's `data`. */
export const Adjusted = z.array(Adjustment).max(64);
