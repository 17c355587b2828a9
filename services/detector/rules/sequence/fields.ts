import { type AgentEvent, envelopeShape } from '../../../../schemas/index.js';
import { destinationHost } from '../../../platform/glob.js';
import { append } from '../../append.js';
import { describeAction, OUTCOME_VERB } from '../describe.js';

// Field accessors for rule conditions, compiled once per path. A path is dotted; `[]` after a
// segment flattens an array, so `secrets[].fp` yields every fingerprint. Virtual fields answer
// questions the raw event spreads over several members.

export type FieldValue = unknown;
export type Accessor = (event: AgentEvent) => FieldValue;

type Sighting = { path: string; fp: string };

function fps(list: readonly Sighting[] | undefined, fromOutput: boolean): string[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  let out: string[] | undefined;
  for (const s of list) {
    if (s.path.startsWith('data.output') === fromOutput) out = append(out, s.fp);
  }
  return out;
}

/** Virtual fields allocate; the matcher may ask for one several times per event, so remember the last. */
function memo(get: Accessor): Accessor {
  let lastEvent: AgentEvent | undefined;
  let lastValue: unknown;
  return (e) => {
    if (e !== lastEvent) {
      lastEvent = e;
      lastValue = get(e);
    }
    return lastValue;
  };
}

/** Virtual fields: name → accessor and a one-line description (for docs and unknown-field errors). */
export const VIRTUAL_FIELDS: Record<string, { doc: string; get: Accessor }> = {
  destination_host: {
    doc: 'host of data.destination (URL, host:port, user@host)',
    get: (e) =>
      e.type === 'action' && e.data.destination !== undefined
        ? destinationHost(e.data.destination)
        : undefined,
  },
  output_secret_fps: {
    doc: 'fingerprints of secrets redacted from the tool output',
    get: (e) => fps(e.secrets, true),
  },
  argument_secret_fps: {
    doc: 'fingerprints of secrets redacted from anywhere but the output (arguments, headers …)',
    get: (e) => fps(e.secrets, false),
  },
  output_entity_fps: {
    doc: 'fingerprints of entities (hosts, e-mails, accounts …) named in the tool output',
    get: (e) => fps(e.entities, true),
  },
  argument_entity_fps: {
    doc: 'fingerprints of entities named outside the output (arguments, destination …)',
    get: (e) => fps(e.entities, false),
  },
  action_text: {
    doc: 'the action in words: tool/operation, then the resource and destination it names',
    get: (e) => (e.type === 'action' ? describeAction(e.data) : undefined),
  },
  outcome_verb: {
    doc: "the outcome as a verb phrase: 'succeeded', 'failed', 'was refused'",
    get: (e) => (e.type === 'action' ? OUTCOME_VERB[e.data.outcome] : undefined),
  },
  output_records: {
    doc: 'data.output.records of an action',
    get: (e) => (e.type === 'action' ? e.data.output?.records : undefined),
  },
};

function step(value: unknown, key: string, flatten: boolean): unknown {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    // Already flattened: map the key over the elements.
    const out: unknown[] = [];
    for (const v of value) {
      const x = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
      if (x === undefined) continue;
      if (flatten && Array.isArray(x)) out.push(...x);
      else out.push(x);
    }
    return out.length > 0 ? out : undefined;
  }
  if (typeof value !== 'object') return undefined;
  return (value as Record<string, unknown>)[key];
}

const cache = new Map<string, Accessor>();

export function compileField(path: string): Accessor {
  const hit = cache.get(path);
  if (hit) return hit;
  let accessor: Accessor;
  const virtual = VIRTUAL_FIELDS[path];
  if (virtual) {
    accessor = memo(virtual.get);
  } else {
    const segments = path
      .split('.')
      .map((s) => (s.endsWith('[]') ? { key: s.slice(0, -2), flatten: true } : { key: s, flatten: false }));
    if (segments.length === 1 && !segments[0]!.flatten) {
      const k = segments[0]!.key;
      accessor = (e) => (e as unknown as Record<string, unknown>)[k];
    } else if (segments.length === 2 && !segments[0]!.flatten && !segments[1]!.flatten) {
      const [a, b] = [segments[0]!.key, segments[1]!.key];
      accessor = (e) => {
        const o = (e as unknown as Record<string, unknown>)[a];
        return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[b] : undefined;
      };
    } else {
      accessor = (e) => {
        let v: unknown = e;
        for (const s of segments) {
          v = step(v, s.key, s.flatten);
          if (v === undefined) return undefined;
        }
        return v;
      };
    }
  }
  cache.set(path, accessor);
  return accessor;
}

/** Root members of an event a path may start with (besides virtual fields): the v1 envelope. */
export const EVENT_ROOTS: ReadonlySet<string> = new Set([...Object.keys(envelopeShape), 'type', 'data']);

export function isKnownField(path: string): boolean {
  if (VIRTUAL_FIELDS[path]) return true;
  const root = path.split('.')[0]!.replace(/\[\]$/, '');
  return EVENT_ROOTS.has(root);
}
