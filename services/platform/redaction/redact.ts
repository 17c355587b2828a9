import { extractEntities } from './entities.js';
import { createFingerprinter, type FingerprintKey } from './fingerprint.js';
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
  /**
   * HMAC key for fingerprints, or a Fingerprinter built once from it (what a long-running
   * service passes). Without either nothing is fingerprinted (the SDK's mode).
   */
  key?: FingerprintKey | Fingerprinter;
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

/** Field names repeat endlessly (`path`, `url`, `query`…): remember which can hold a secret. */
const secretLikeNames = new Map<string, boolean>();
const SECRET_LIKE = /pass|pwd|secret|token|key|credential|auth|cookie|session|signature/;

function fieldRuleFor(key: string | undefined, value: string): string | undefined {
  if (key === undefined) return undefined;
  let secretLike = secretLikeNames.get(key);
  if (secretLike === undefined) {
    secretLike = SECRET_LIKE.test(normaliseKey(key));
    if (secretLikeNames.size > 10_000) secretLikeNames.clear();
    secretLikeNames.set(key, secretLike);
  }
  if (!secretLike || value.includes(PLACEHOLDER_PREFIX)) return undefined;
  const name = normaliseKey(key);
  // Identifier fields (`credential_id`, `approval_id`) are references the detector needs, and
  // ids are high-entropy by design; a session id is the exception: it is a bearer secret.
  if (name.endsWith('id') && name !== 'sessionid') return undefined;
  for (const rule of FIELD_RULES) {
    if (rule.name.test(name) && rule.accept(value)) return rule.kind;
  }
  return undefined;
}

/**
 * One walk over one event. A class rather than closures: the walk is the gateway's hottest
 * code, and per-call closures showed up in the profile. The JSON path is kept as a segment
 * stack and joined only when something is recorded.
 */
class Walk {
  readonly secrets: Sighting[] = [];
  readonly entities: Sighting[] = [];
  private readonly segs: string[] = ['data'];
  private readonly wantEntities: boolean;

  constructor(
    private readonly fps: Fingerprinter | undefined,
    entities: boolean,
  ) {
    this.wantEntities = fps !== undefined && entities;
  }

  private path(): string {
    return this.segs.join('.').slice(0, MAX_PATH_CHARS);
  }

  private record(list: Sighting[], max: number, kind: string, value: string, path: string): void {
    if (this.fps === undefined || list.length >= max) return;
    const fp = list === this.secrets ? this.fps.secret(value) : this.fps.entity(value);
    // Lists are short: a scan beats building a key string per sighting.
    for (const s of list) if (s.fp === fp && s.kind === kind && s.path === path) return;
    list.push({ kind, path, fp });
  }

  private readonly onSecret = (kind: string, value: string): void => {
    this.record(this.secrets, MAX_SECRETS, kind, value, this.path());
  };

  string(value: string, fieldKey: string | undefined): string {
    let out = redactText(value, this.fps ? this.onSecret : undefined);
    if (out === value) {
      const kind = fieldRuleFor(fieldKey, value);
      if (kind !== undefined) {
        if (this.fps) this.record(this.secrets, MAX_SECRETS, kind, value, this.path());
        out = placeholder(kind);
      }
    }
    if (this.wantEntities && this.entities.length < MAX_ENTITIES) {
      const hits = extractEntities(out);
      if (hits.length > 0) {
        const path = this.path();
        for (const hit of hits) this.record(this.entities, MAX_ENTITIES, hit.kind, hit.value, path);
      }
    }
    return out;
  }

  /** Copy-on-write: containers are copied only when something inside them changed. */
  value(value: unknown, fieldKey: string | undefined): unknown {
    if (typeof value === 'string') return this.string(value, fieldKey);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        this.segs.push(String(i));
        const next = this.value(value[i], fieldKey);
        this.segs.pop();
        if (next !== value[i]) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy ?? value;
    }
    const obj = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      this.segs.push(k);
      const next = this.value(obj[k], k);
      this.segs.pop();
      if (next !== obj[k]) {
        copy ??= { ...obj };
        copy[k] = next;
      }
    }
    return copy ?? value;
  }
}

/** Redact every string under `event.data`; fingerprint secrets and entities when given a key. */
export function redactEvent<T extends { data?: unknown }>(
  event: T,
  opts: RedactOptions = {},
): RedactResult<T> {
  const fps =
    opts.key === undefined
      ? undefined
      : opts.key instanceof Fingerprinter
        ? opts.key
        : new Fingerprinter(opts.key, 0);
  const walk = new Walk(fps, opts.entities !== false);
  if (event.data === undefined) return { event, secrets: walk.secrets, entities: walk.entities };
  const data = walk.value(event.data, undefined);
  return {
    event: data === event.data ? event : { ...event, data },
    secrets: walk.secrets,
    entities: walk.entities,
  };
}
