import { createHash, createHmac, type Hash } from 'node:crypto';

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

const BLOCK = 64;

/**
 * The same HMAC (RFC 2104), with the keyed inner and outer SHA-256 states computed once and
 * copied per value. createHmac re-derives them on every call; at gateway rates (several
 * fingerprints per event) that re-keying was the largest single cost in the profile.
 */
export function createFingerprinter(key: FingerprintKey): (value: string) => string {
  let k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (k.length > BLOCK) k = createHash('sha256').update(k).digest();
  const ipad = Buffer.alloc(BLOCK, 0x36);
  const opad = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i]! ^= k[i]!;
    opad[i]! ^= k[i]!;
  }
  const inner: Hash = createHash('sha256').update(ipad);
  const outer: Hash = createHash('sha256').update(opad);
  return (value: string) => {
    const innerDigest = inner.copy().update(value, 'utf8').digest();
    return outer.copy().update(innerDigest).digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
  };
}

/**
 * Fingerprints with precomputed HMAC state, plus a bounded cache for ENTITY values (hosts and
 * addresses repeat across events). Secrets are never cached: they are not kept in memory
 * beyond the event that carried them.
 */
export class Fingerprinter {
  private readonly hmac: (value: string) => string;
  private readonly cache = new Map<string, string>();

  constructor(
    key: FingerprintKey,
    private readonly cacheSize = 50_000,
  ) {
    this.hmac = createFingerprinter(key);
  }

  secret(value: string): string {
    return this.hmac(value);
  }

  entity(value: string): string {
    let fp = this.cache.get(value);
    if (fp === undefined) {
      fp = this.hmac(value);
      // Dropping the whole cache when full is crude but O(1) and keeps memory bounded.
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(value, fp);
    }
    return fp;
  }
}
