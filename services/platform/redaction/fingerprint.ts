import { createHmac } from 'node:crypto';

/** Hex characters kept of the HMAC: 128 bits, plenty to follow one value across events. */
export const FINGERPRINT_HEX_CHARS = 32;

export type FingerprintKey = string | Buffer;

/**
 * Keyed fingerprint of a secret or entity: HMAC-SHA256(key, value), hex, truncated. Keyed, so a
 * reader of the stored events cannot confirm a guess ("is the password hunter2?") without the key.
 */
export function fingerprint(key: FingerprintKey, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
}
