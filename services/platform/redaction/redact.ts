import { CleanCache } from './clean-cache.js';
import { Fingerprinter, type FingerprintKey } from './fingerprint.js';
import type { OnSecret } from './text.js';
import { type Sighting, Walk } from './walk.js';

// The shared redactor: pure, synchronous, no I/O.
//
// How it fits the hash chain (schemas/chain.ts). The chain hash covers the event as validated
// and REDACTED, and excludes `secrets` and `entities`. So the redactor is split in two:
//   - what it writes INTO the event is deterministic and key-free: each secret becomes the
//     typed placeholder `[REDACTED:<kind>]` (a base64 or wrapped secret too: the whole
//     encoded run is replaced). Redaction is idempotent (redacting a redacted event changes
//     nothing), so the SDK, which runs it without a key, computes the same hash over the same
//     bytes that the gateway later stores;
//   - what needs the key goes only into the envelope's `secrets` and `entities` arrays:
//     `{kind, path, fp}` with fp = HMAC-SHA256(key, value) truncated. Those arrays are outside
//     the chain, so adding them at the gateway does not break it.
// The SDK may therefore send raw values (the gateway needs them to fingerprint) while hashing
// the redacted form; the stored event verifies.
//
// It walks every stored free-text field: every string and every object key under `data`
// (arguments nested at any depth, output excerpts, intents, contexts, labels), and the agent's
// free-text envelope fields. Other envelope fields are identifiers with strict formats.

export { Fingerprinter } from './fingerprint.js';
export { PLACEHOLDER_PREFIX, placeholder } from './placeholder.js';
export type { Sighting } from './walk.js';

/** Free-text fields of the envelope's `agent` (ShortText, any content); `agent.id` is an Id. */
const AGENT_FREE_TEXT = ['instance', 'workload_identity', 'model', 'framework'] as const;
/** The same few values arrive with every event of an agent; none of these names has a field rule. */
const cleanAgentText = new CleanCache();

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

/**
 * Redact one string: the text rules, across line breaks, inside base64 runs and inside JSON it
 * holds. `onSecret` receives each secret removed (for fingerprinting).
 */
export function redactText(text: string, onSecret?: OnSecret): string {
  return new Walk(undefined).string(text, undefined, 0, onSecret);
}

function redactAgent(walk: Walk, agent: unknown): unknown {
  if (agent === null || typeof agent !== 'object') return agent;
  const a = agent as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  walk.entitiesOn = false;
  for (const f of AGENT_FREE_TEXT) {
    const v = a[f];
    if (typeof v !== 'string' || cleanAgentText.has(v)) continue;
    walk.segs.push('agent', f);
    const next = walk.string(v, f, 0, walk.sink);
    walk.segs.length = 0;
    if (next === v) {
      cleanAgentText.add(v);
      continue;
    }
    copy ??= { ...a };
    copy[f] = next;
  }
  return copy ?? agent;
}

/** Redact the event's stored free text; fingerprint secrets and entities when given a key. */
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
  const wantEntities = fps !== undefined && opts.entities !== false;
  const walk = new Walk(fps);
  const agentIn = (event as { agent?: unknown }).agent;
  const agent = redactAgent(walk, agentIn);
  let data = event.data;
  if (data !== undefined) {
    walk.entitiesOn = wantEntities;
    walk.segs.push('data');
    data = walk.value(data, undefined, 0, walk.sink);
    walk.segs.pop();
  }
  const changed = agent !== agentIn || data !== event.data;
  return {
    event: changed
      ? { ...event, ...(agent !== agentIn && { agent }), ...(data !== event.data && { data }) }
      : event,
    secrets: walk.secrets,
    entities: walk.entities,
  };
}
