import { createHmac, timingSafeEqual } from 'node:crypto';

// Webhook signatures (documented in README, "Verifying webhook signatures"):
//
//   header  X-AgentTrail-Signature: t=<unix seconds>,v1=<hex>
//   v1    = lower-case hex HMAC-SHA256(key = secret, message = `${t}.${raw body bytes}`)
//
// Signing the timestamp with the body binds them, so a captured request cannot be replayed
// later with a fresh `t`; the receiver rejects any `t` outside its tolerance window. Several
// `v1=` entries may appear (secret rotation); one valid entry is enough.

export const SIGNATURE_HEADER = 'x-agenttrail-signature';
export const DEFAULT_TOLERANCE_S = 300;

function hmacHex(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value for `body`, signed at `nowMs`. */
export function signatureHeader(secret: string, body: string | Buffer, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * Verify a signature header against the raw body bytes as received (before any JSON
 * parsing). Rejects timestamps further than `toleranceS` from `now` in either direction.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string | Buffer,
  opts: { toleranceS?: number; now?: number } = {},
): VerifyResult {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (t === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  const nowS = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(nowS - t) > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmacHex(secret, t, body), 'hex');
  // Constant-time comparison: no timing side channel on how many bytes matched.
  const match = candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'mismatch' };
}
