import { CleanCache } from './clean-cache.js';
import {
  base64Candidates,
  decodeBase64Text,
  isCredentialPair,
  jsonCandidate,
  MAX_DECODE_DEPTH,
  MIN_BASE64_CHARS,
} from './decode.js';
import { extractEntities } from './entities.js';
import { fieldRuleFor } from './fields.js';
import type { Fingerprinter } from './fingerprint.js';
import { breaksWithin, type JoinedView, joinedView, originalOffset } from './joins.js';
import { PLACEHOLDER_PREFIX, placeholder } from './placeholder.js';
import { CREDENTIAL_PAIR_KIND } from './rules.js';
import { applyRules, applySpans, type OnSecret, type Span, tokenSpansAcrossBreaks } from './text.js';

const MAX_SECRETS = 256;
const MAX_ENTITIES = 512;
const MAX_PATH_CHARS = 512;

export interface Sighting {
  kind: string;
  path: string;
  fp: string;
}

/** Clean with full decoding (depth 0) means clean at any depth: deeper levels only decode less. */
const cleanKeys = new CleanCache();

/**
 * One walk over one event. A class rather than closures: the walk is the gateway's hottest
 * code, and per-call closures showed up in the profile. The JSON path is kept as a segment
 * stack and joined only when something is recorded.
 *
 * `depth` counts the layers of encoding (base64, JSON in a string) peeled off to reach a value;
 * `sink` receives each secret removed, and is a local collector while a decoded candidate is
 * tried (the candidate is replaced only if it held a secret).
 */
export class Walk {
  readonly secrets: Sighting[] = [];
  readonly entities: Sighting[] = [];
  readonly segs: string[] = [];
  /** Whether strings at depth 0 yield entities: off for envelope fields, not named by tools. */
  entitiesOn = false;

  /** Where sightings at depth 0 go: recorded when there is a key to fingerprint with. */
  readonly sink: OnSecret | undefined;

  constructor(private readonly fps: Fingerprinter | undefined) {
    // Assigned here, not as an arrow-function class field: tsx (esbuild keepNames) names such a
    // field's function with Object.defineProperty on every construction, one Walk per event.
    this.sink = fps ? (kind, value) => this.onSecret(kind, value) : undefined;
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

  private onSecret(kind: string, value: string): void {
    this.record(this.secrets, MAX_SECRETS, kind, value, this.path());
  }

  /** A decoded candidate's span, when the text it decodes to held a secret. */
  private decoded(run: string, start: number, end: number, depth: number): Span | undefined {
    const text = decodeBase64Text(run);
    if (text === undefined) return undefined;
    const found: Span['found'] = [];
    this.string(text, undefined, depth + 1, (kind, value) => found.push([kind, value]));
    if (found.length === 0) {
      if (!isCredentialPair(text)) return undefined;
      // Fingerprint the encoded form: the same credential sent as `Basic <run>` matches it.
      found.push([CREDENTIAL_PAIR_KIND, run]);
    }
    return { start, end, kind: found[0]![0], found };
  }

  /** Base64 candidates of `text` (of the joined view, when given: only those crossing a break). */
  private base64Spans(text: string, depth: number, spans: Span[], view?: JoinedView): void {
    const runs = base64Candidates(text);
    if (runs === undefined) return;
    for (const [start, end] of runs) {
      if (view) {
        if (breaksWithin(view, start, end).length === 0) continue;
      } else if (text.startsWith(PLACEHOLDER_PREFIX, start - PLACEHOLDER_PREFIX.length)) continue;
      const span = this.decoded(text.slice(start, end), start, end, depth);
      if (span === undefined) continue;
      if (view) {
        span.start = originalOffset(view, start, false);
        span.end = originalOffset(view, end, true);
      }
      spans.push(span);
    }
  }

  /** Text-level redaction: across line breaks, the text rules, then base64 runs. */
  text(value: string, depth: number, sink: OnSecret | undefined): string {
    let out = value;
    const view = joinedView(value);
    if (view !== undefined) {
      const spans: Span[] = [];
      tokenSpansAcrossBreaks(view, spans);
      if (depth < MAX_DECODE_DEPTH) this.base64Spans(view.text, depth, spans, view);
      out = applySpans(value, spans, sink);
    }
    out = applyRules(out, sink);
    if (depth < MAX_DECODE_DEPTH && out.length >= MIN_BASE64_CHARS) {
      const spans: Span[] = [];
      this.base64Spans(out, depth, spans);
      out = applySpans(out, spans, sink);
    }
    return out;
  }

  /** A string value: text-level redaction, JSON nested in it, then its key's field rule. */
  string(value: string, fieldKey: string | undefined, depth: number, sink: OnSecret | undefined): string {
    let out = this.text(value, depth, sink);
    if (depth < MAX_DECODE_DEPTH) {
      const parsed = jsonCandidate(out);
      if (parsed !== undefined) {
        const next = this.value(parsed, undefined, depth + 1, sink);
        // Re-serialised (compact) only when something in it was redacted.
        if (next !== parsed) out = JSON.stringify(next);
      }
    }
    if (out === value) {
      const kind = fieldRuleFor(fieldKey, value);
      if (kind !== undefined) {
        sink?.(kind, value);
        out = placeholder(kind);
      }
    }
    if (depth === 0 && this.entitiesOn && this.entities.length < MAX_ENTITIES) {
      const hits = extractEntities(out);
      if (hits.length > 0) {
        const path = this.path();
        for (const hit of hits) this.record(this.entities, MAX_ENTITIES, hit.kind, hit.value, path);
      }
    }
    return out;
  }

  /** An object key's redacted form and the secrets it held, or undefined when it is clean. */
  private key(k: string, depth: number): { key: string; found: Span['found'] } | undefined {
    if (cleanKeys.has(k)) return undefined;
    const found: Span['found'] = [];
    const out = this.text(k, depth, (kind, value) => found.push([kind, value]));
    if (out !== k) return { key: out, found };
    if (depth === 0) cleanKeys.add(k);
    return undefined;
  }

  /** Copy-on-write: containers are copied only when something inside them changed. */
  value(value: unknown, fieldKey: string | undefined, depth: number, sink: OnSecret | undefined): unknown {
    if (typeof value === 'string') return this.string(value, fieldKey, depth, sink);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        this.segs.push(String(i));
        const next = this.value(value[i], fieldKey, depth, sink);
        this.segs.pop();
        if (next !== value[i]) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy ?? value;
    }
    const obj = value as Record<string, unknown>;
    // Members as [key, value] once any changed; rebuilt in order (a renamed key keeps its place).
    let entries: Array<[string, unknown]> | undefined;
    let taken: Set<string> | undefined;
    let seen = 0;
    for (const k in obj) {
      if (!Object.hasOwn(obj, k)) continue;
      let nk = k;
      const redacted = this.key(k, depth);
      if (redacted !== undefined) {
        // A secret used as a key (a token mapping to its grants, a JWT naming a session) becomes
        // the placeholder, made unique in the object so no member is lost. Its sighting's path
        // ends in that placeholder: the stored path carries no secret either.
        taken ??= new Set();
        nk = redacted.key;
        for (let i = 2; Object.hasOwn(obj, nk) || taken.has(nk); i++) nk = `${redacted.key}~${i}`;
        taken.add(nk);
        if (sink) {
          this.segs.push(nk);
          for (const [kind, v] of redacted.found) sink(kind, v);
          this.segs.pop();
        }
      }
      this.segs.push(nk);
      // The redacted key is the field name: the same on a second pass, so redaction stays idempotent.
      const next = this.value(obj[k], nk, depth, sink);
      this.segs.pop();
      if (entries === undefined && (nk !== k || next !== obj[k])) {
        entries = [];
        let i = 0;
        for (const pk in obj) {
          if (!Object.hasOwn(obj, pk)) continue;
          if (i++ === seen) break;
          entries.push([pk, obj[pk]]);
        }
      }
      entries?.push([nk, next]);
      seen++;
    }
    // fromEntries defines members (a `__proto__` key stays a member, not the prototype).
    return entries ? Object.fromEntries(entries) : value;
  }
}
