import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Tenant } from '../../../schemas/index.js';

// API keys, each bound to one tenant, stored hashed in a JSON file. Two kinds, kept apart by the
// mechanism rather than by care: collector keys (the gateway's intake, `atk_`, no role, the
// gateway keys file) and API keys (the query API, `ata_`, with a role, the API keys file). A
// store takes one kind only: a key of the other prefix, or a record of the other kind in its
// file, never verifies, so an intake credential cannot read the record and a reader cannot write.
//
// Key format: `<atk|ata>_<id>_<secret>`. The id (public, 12 hex) finds the record without a scan;
// the secret is 32 random bytes. Stored: SHA-256 of the whole key. A fast hash is the right tool
// here: the key is 256 bits of randomness, so there is nothing to brute-force, and scrypt at
// ~50 ms per request would cap the gateway far below its throughput target. (Slow hashes
// protect low-entropy passwords, which these are not.) Comparison is constant-time.

/** Roles of API keys (the API's services/api/roles.ts gives them meaning). */
export const KEY_ROLES = ['analyst', 'responder', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export type KeyKind = 'collector' | 'api';
const PREFIX: Record<KeyKind, string> = { collector: 'atk', api: 'ata' };

export const KeyRecord = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{12}$/),
  tenant: Tenant,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Present on API keys only; a record with a role is never a collector key. */
  role: z.enum(KEY_ROLES).optional(),
  label: z.string().max(256).optional(),
  created_at: z.string(),
  revoked_at: z.string().optional(),
});
export type KeyRecord = z.infer<typeof KeyRecord>;

export const KeysFile = z.strictObject({ version: z.literal(1), keys: z.array(KeyRecord) });
export type KeysFile = z.infer<typeof KeysFile>;

export interface Principal {
  keyId: string;
  tenant: string;
  /** Set on API keys (a store of kind `api`) only. */
  role?: KeyRole;
}

const KEY_RE: Record<KeyKind, RegExp> = {
  collector: /^atk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/,
  api: /^ata_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/,
};
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export const kindOf = (r: Pick<KeyRecord, 'role'>): KeyKind => (r.role === undefined ? 'collector' : 'api');

type ActiveKeys = Map<string, { tenant: string; role?: KeyRole; hash: Buffer }>;

const activeKeys = (records: readonly KeyRecord[], kind: KeyKind): ActiveKeys =>
  new Map(
    records
      .filter((r) => !r.revoked_at && kindOf(r) === kind)
      .map((r) => [
        r.id,
        { tenant: r.tenant, ...(r.role ? { role: r.role } : {}), hash: Buffer.from(r.sha256, 'hex') },
      ]),
  );

export class KeyStore {
  private byId: ActiveKeys;

  /** `kind` decides which keys verify: collector (the gateway, the default) or api. */
  constructor(
    records: readonly KeyRecord[],
    readonly kind: KeyKind = 'collector',
  ) {
    this.byId = activeKeys(records, kind);
  }

  /**
   * Swap in a new key set (watcher.ts, on a change to the keys file). One assignment, so
   * a request sees either the old set or the new one, never a mix.
   */
  replace(records: readonly KeyRecord[]): void {
    this.byId = activeKeys(records, this.kind);
  }

  static fromFile(path: string, kind: KeyKind = 'collector'): KeyStore {
    return new KeyStore(readKeysFile(path).keys, kind);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The key's principal, or undefined when the key is malformed, unknown, revoked or of the other kind. */
  verify(presented: string): Principal | undefined {
    const m = KEY_RE[this.kind].exec(presented);
    if (!m) return undefined;
    const rec = this.byId.get(m[1]!);
    if (!rec) return undefined;
    if (!timingSafeEqual(sha256(presented), rec.hash)) return undefined;
    return rec.role
      ? { keyId: m[1]!, tenant: rec.tenant, role: rec.role }
      : { keyId: m[1]!, tenant: rec.tenant };
  }
}

/**
 * A new key and the record to store. The key itself is shown once and never stored. With a
 * role it is an API key (`ata_`), without one a collector key (`atk_`).
 */
export function mintKey(tenant: string, label?: string, role?: KeyRole): { key: string; record: KeyRecord } {
  const id = randomBytes(6).toString('hex');
  const key = `${PREFIX[role ? 'api' : 'collector']}_${id}_${randomBytes(32).toString('base64url')}`;
  const record = KeyRecord.parse({
    id,
    tenant,
    sha256: sha256(key).toString('hex'),
    role,
    label,
    created_at: new Date().toISOString(),
  });
  return { key, record };
}

export function readKeysFile(path: string): KeysFile {
  if (!existsSync(path)) return { version: 1, keys: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not a valid keys file: ${(err as Error).message}`);
  }
  const parsed = KeysFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${path}: not a valid keys file: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * For the CLI (`agenttrail keys create --tenant acme [--role analyst]`): mint a key, append its
 * record to the keys file (written atomically, mode 0600), return the key to print once. A file
 * holds one kind: adding an API key to a collector file (or the reverse) is refused.
 */
export function createKey(
  path: string,
  tenant: string,
  label?: string,
  role?: KeyRole,
): { key: string; record: KeyRecord } {
  const minted = mintKey(tenant, label, role);
  const file = readKeysFile(path);
  const other = file.keys.find((k) => kindOf(k) !== kindOf(minted.record));
  if (other) {
    throw new Error(
      `${path} holds ${kindOf(other)} keys; ${kindOf(minted.record)} keys go in their own file`,
    );
  }
  file.keys.push(minted.record);
  writeKeysFile(path, file);
  return minted;
}

/**
 * For the CLI (`agenttrail keys revoke <id>`): mark the key revoked. The record stays (with
 * `revoked_at`), so the file still says which key a stored event's key id was and since when it
 * is refused. A running service picks the change up by itself (watcher.ts).
 */
export function revokeKey(path: string, id: string): { record: KeyRecord; alreadyRevoked: boolean } {
  const file = readKeysFile(path);
  const record = file.keys.find((k) => k.id === id);
  if (!record) throw new Error(`no key ${id} in ${path}`);
  if (record.revoked_at) return { record, alreadyRevoked: true };
  record.revoked_at = new Date().toISOString();
  writeKeysFile(path, file);
  return { record, alreadyRevoked: false };
}

/** Written to a temp file and renamed over: a reader (the gateway) never sees half a file. */
function writeKeysFile(path: string, file: KeysFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
