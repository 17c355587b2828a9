import { extractEntities } from './entities.js';
import { type FingerprintKey, fingerprint } from './fingerprint.js';
import { FIELD_RULES, PRECHECK, TEXT_RULES } from './rules.js';

// The shared redactor: pure, synchronous, no I/O.
//
// How it fits the hash chain (schemas/chain.ts). The chain hash covers the event as validated
// and REDACTED, and excludes `secrets` and `entities`. So the redactor is split in two:
//   - what it writes INTO the event is deterministic and key-free: each secret becomes the
//     typed placeholder `[REDACTED:<kind>]`. Redaction is idempotent (redacting a redacted
//     event changes nothing), so the SDK, which runs it without a key, computes the same hash
//     over the same bytes that the gateway later stores;
//   - what needs the key goes only into the envelope's `secrets` and `entities` arrays:
//     `{kind, path, fp}` with fp = HMAC-SHA256(key, value) truncated. Those arrays are outside
//     the chain, so adding them at the gateway does not break it.
// The SDK may therefore send raw values (the gateway needs them to fingerprint) while hashing
// the redacted form; the stored event verifies.
//
// It walks every string under `data` (arguments nested at any depth, output excerpts, intents,
// contexts), never the envelope: envelope fields are identifiers with strict formats.

export const PLACEHOLDER_PREFIX = '[REDACTED:';
export const placeholder = (kind: string) => `${PLACEHOLDER_PREFIX}${kind}]`;

const MAX_SECRETS = 256;
const MAX_ENTITIES = 512;
const MAX_PATH_CHARS = 512;

export interface Sighting {
  kind: string;
  path: string;
  fp: string;
}

export interface RedactOptions {
  /** HMAC key for fingerprints. Without it nothing is fingerprinted (the SDK's mode). */
  key?: FingerprintKey;
  /** Extract entities (hosts, e-mails, URLs, accounts); needs `key`. Default true. */
  entities?: boolean;
}

export interface RedactResult<T> {
  /** A copy with secrets replaced, or the input itself when nothing changed. */
  event: T;
  secrets: Sighting[];
  entities: Sighting[];
}

type OnSecret = (kind: string, value: string) => void;

/** Redact one string. `onSecret` receives each secret removed (for fingerprinting). */
export function redactText(text: string, onSecret?: OnSecret): string {
  if (!PRECHECK.test(text)) return text;
  let out = text;
  let lower: string | undefined;
  for (const rule of TEXT_RULES) {
    let hinted = false;
    if (rule.hintsLower) {
      lower ??= out.toLowerCase();
      hinted = rule.hints.some((h) => lower!.includes(h));
    } else {
      hinted = rule.hints.some((h) => out.includes(h));
    }
    if (!hinted) continue;
    const next = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = args[args.length - 1] as Record<string, string | undefined>;
      const secret = groups.secret ?? match;
      // Never re-redact a placeholder: keeps redaction idempotent.
      if (secret.includes(PLACEHOLDER_PREFIX) || secret.length === 0) return match;
      if (rule.accept && !rule.accept(secret)) return match;
      onSecret?.(rule.kind, secret.trim());
      return `${groups.pre ?? ''}${placeholder(rule.kind)}`;
    });
    if (next !== out) {
      out = next;
      lower = undefined;
    }
  }
  return out;
}

/** Normalise a key for field rules: `API-Key`, `api_key`, `apiKey` all become `apikey`. */
const normaliseKey = (key: string) => key.toLowerCase().replace(/[-_.\s]/g, '');

function fieldRuleFor(key: string | undefined, value: string): string | undefined {
  if (key === undefined || value.includes(PLACEHOLDER_PREFIX)) return undefined;
  const name = normaliseKey(key);
  // Identifier fields (`credential_id`, `approval_id`) are references the detector needs, and
  // ids are high-entropy by design; a session id is the exception: it is a bearer secret.
  if (name.endsWith('id') && name !== 'sessionid') return undefined;
  for (const rule of FIELD_RULES) {
    if (rule.name.test(name) && rule.accept(value)) return rule.kind;
  }
  return undefined;
}

/** Redact every string under `event.data`; fingerprint secrets and entities when given a key. */
export function redactEvent<T extends { data?: unknown }>(
  event: T,
  opts: RedactOptions = {},
): RedactResult<T> {
  const secrets: Sighting[] = [];
  const entities: Sighting[] = [];
  const key = opts.key;
  const wantEntities = key !== undefined && opts.entities !== false;
  const seen = new Set<string>();

  const record = (list: Sighting[], max: number, kind: string, path: string, value: string) => {
    if (key === undefined || list.length >= max) return;
    const fp = fingerprint(key, value);
    const id = `${list === secrets ? 's' : 'e'}\u0000${kind}\u0000${path}\u0000${fp}`;
    if (seen.has(id)) return;
    seen.add(id);
    list.push({ kind, path: path.slice(0, MAX_PATH_CHARS), fp });
  };

  const redactString = (value: string, path: string, fieldKey: string | undefined): string => {
    let out = redactText(value, (kind, secret) => record(secrets, MAX_SECRETS, kind, path, secret));
    if (out === value) {
      const kind = fieldRuleFor(fieldKey, value);
      if (kind !== undefined) {
        record(secrets, MAX_SECRETS, kind, path, value);
        out = placeholder(kind);
      }
    }
    if (wantEntities && entities.length < MAX_ENTITIES) {
      for (const hit of extractEntities(out)) record(entities, MAX_ENTITIES, hit.kind, path, hit.value);
    }
    return out;
  };

  // Copy-on-write: containers are copied only when something inside them changed.
  const walk = (value: unknown, path: string, fieldKey: string | undefined): unknown => {
    if (typeof value === 'string') return redactString(value, path, fieldKey);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const next = walk(value[i], `${path}.${i}`, fieldKey);
        if (next !== value[i]) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      let copy: Record<string, unknown> | undefined;
      for (const k of Object.keys(obj)) {
        const next = walk(obj[k], `${path}.${k}`, k);
        if (next !== obj[k]) {
          copy ??= { ...obj };
          copy[k] = next;
        }
      }
      return copy ?? value;
    }
    return value;
  };

  if (event.data === undefined) return { event, secrets, entities };
  const data = walk(event.data, 'data', undefined);
  return { event: data === event.data ? event : { ...event, data }, secrets, entities };
}
