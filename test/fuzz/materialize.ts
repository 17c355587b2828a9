import { type Corruption, type Deep, FIXTURES, type Item, type Mutation } from './arbitraries.js';

// Specs (arbitraries.ts) → JSON text and bytes. Deterministic given the spec and the event id,
// so a seed replays the same bytes (ids aside, which only keep runs apart in storage).

/** Unique, schema-valid event ids for one target's run. */
export function idSource(prefix: string): () => string {
  const base = `${prefix}-${Date.now().toString(36)}`;
  let n = 0;
  return () => `${base}-${++n}`;
}

/** A valid event sent after each fuzz input: the pipeline must still store it. */
export function controlEvent(id: string) {
  return {
    event_id: id,
    schema_version: 1,
    type: 'action',
    occurred_at: new Date().toISOString(),
    tenant: 'acme',
    agent: { id: 'fuzz-control' },
    task_id: 'fuzz-control',
    seq: 1,
    data: { tool: 'fuzz.control', operation: 'read', outcome: 'ok' },
  };
}

export interface Materialized {
  /** JSON text of the item as sent. */
  text: string;
  /** Its `event_id` when that is a string (what storage is checked by). */
  eventId: string | undefined;
}

type Container = Record<string, unknown> | unknown[];
interface Node {
  parent: Container | undefined;
  key: string | number;
  value: unknown;
  /** Keys from the root, e.g. `data.arguments.labels.0`. */
  path: string;
}

/** Strings the schema takes as free text (bounded, no pattern), by their key or place. */
const FREE_TEXT = new Set(
  'resource destination error excerpt intent reason context display instance model framework workload_identity summary'.split(
    ' ',
  ),
);
const isFreeText = (n: Node) =>
  typeof n.value === 'string' &&
  (FREE_TEXT.has(String(n.key)) || n.path.startsWith('data.arguments.') || n.path.startsWith('data.labels.'));

/** Every node in document order, iteratively (a mutation may have made the value deep). */
function nodes(root: unknown): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [{ parent: undefined, key: '', value: root, path: '' }];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    if (typeof n.value !== 'object' || n.value === null) continue;
    const c = n.value as Container;
    const keys = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const path = n.path === '' ? String(k) : `${n.path}.${k}`;
      stack.push({ parent: c, key: k, value: (c as Record<string | number, unknown>)[k], path });
    }
  }
  return out;
}

/** Own enumerable property, even for `__proto__` (plain assignment would set the prototype). */
function put(obj: Container, key: string | number, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;
const isObject = (v: unknown): v is Record<string, unknown> => isContainer(v) && !Array.isArray(v);
const deepMark = (i: number) => `\u0000fuzz-deep-${i}\u0000`;

function apply(root: Record<string, unknown>, m: Mutation, deeps: Deep[]): void {
  const all = nodes(root);
  const inner = all.slice(1);
  switch (m.op) {
    case 'string': {
      const strings = inner.filter((n) => typeof n.value === 'string');
      const n = strings[m.at % strings.length];
      if (n) put(n.parent!, n.key, m.value);
      return;
    }
    case 'text': {
      const texts = inner.filter(isFreeText);
      const n = texts[m.at % texts.length];
      if (n) put(n.parent!, n.key, m.value);
      return;
    }
    case 'value': {
      const n = inner[m.at % inner.length];
      if (n) put(n.parent!, n.key, m.value);
      return;
    }
    case 'key': {
      const objects = all.filter((n) => isObject(n.value));
      put(objects[m.at % objects.length]!.value as Container, m.key, m.value);
      return;
    }
    case 'delete': {
      const n = inner[m.at % inner.length];
      if (!n) return;
      if (Array.isArray(n.parent)) n.parent.splice(n.key as number, 1);
      else delete (n.parent as Record<string, unknown>)[n.key as string];
      return;
    }
    case 'deep':
    case 'bigArguments': {
      // Into data.arguments, where collectors put whatever a tool was called with.
      const data = isObject(root.data) ? root.data : root;
      const args = isObject(data.arguments) ? data.arguments : {};
      if (m.op === 'deep') {
        put(args, 'deep', deepMark(deeps.length));
        deeps.push(m.deep);
      } else {
        // {"blob":"…"} is 11 bytes of JSON around the blob.
        put(args, 'blob', 'x'.repeat(Math.max(0, m.bytes - 11)));
      }
      put(data, 'arguments', args);
      return;
    }
  }
}

/** JSON text of `depth` nested arrays or objects around a 1. */
export function deepText(d: Deep): string {
  return d.kind === 'array'
    ? `${'['.repeat(d.depth)}1${']'.repeat(d.depth)}`
    : `${'{"a":'.repeat(d.depth)}1${'}'.repeat(d.depth)}`;
}

/** The item as JSON text, with a fresh event id (before mutations, which may overwrite it). */
export function materialize(item: Item, eventId: string, extra: Record<string, unknown> = {}): Materialized {
  if (item.kind === 'json') {
    const id = isObject(item.value) ? item.value.event_id : undefined;
    return { text: JSON.stringify(item.value), eventId: typeof id === 'string' ? id : undefined };
  }
  const root = { ...structuredClone(FIXTURES[item.fixture]!), event_id: eventId, ...extra };
  const deeps: Deep[] = [];
  for (const m of item.mutations) apply(root, m, deeps);
  let text = JSON.stringify(root);
  deeps.forEach((d, i) => {
    text = text.replace(JSON.stringify(deepMark(i)), deepText(d));
  });
  const id = root.event_id;
  return { text, eventId: typeof id === 'string' ? id : undefined };
}

/** `bytes` spliced in at `at` (modulo length + 1): the buffer is no longer valid UTF-8. */
export function corrupt(buf: Buffer, c: Corruption): Buffer {
  const at = c.at % (buf.length + 1);
  return Buffer.concat([buf.subarray(0, at), Buffer.from(c.bytes), buf.subarray(at)]);
}
