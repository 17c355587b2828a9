import type { Changes } from '../state/changes.js';

// Incremental snapshots. A snapshot of 10,000 tasks is ~26 MB of JSON, and serialising all of it
// every DETECTOR_SNAPSHOT_INTERVAL_MS paused the consume loop ~450 ms, most of it for state that
// had not changed since the previous snapshot. Instead each unit of state (a task, a credential,
// a sequence key, a baseline identity) keeps its JSON text until it changes, and the snapshot is
// assembled from those texts in the same structure and order as one `JSON.stringify` pass. The
// price is memory: the texts stay, about one snapshot's size (bench: ~2.8 KB per task).
//
// Invalidation is by object identity: whatever mutates a unit in place calls `touch(unit)` on the
// observer it was handed (state/changes.ts), which is the unit's cache here; a unit that is replaced by a new object, created or restored has no text yet, and a
// unit that is deleted is simply no longer visited when the snapshot walks the live maps. The
// caches are WeakMaps: they never keep a dropped unit alive, and a detector that never snapshots
// (backtest) only pays the `touch`, not a growing set of dirty units.

/** Cached JSON text per state object; `touch` when the object is mutated in place. */
export class JsonFragments<T extends object> implements Changes<T> {
  private readonly texts = new WeakMap<T, string>();
  /** Texts rendered (units new or touched since they were last rendered), for diagnostics and tests. */
  rendered = 0;

  /** The unit changed: its text is rendered again at the next snapshot. Hot path: one WeakMap delete. */
  touch(unit: T): void {
    this.texts.delete(unit);
  }

  /** The unit's text, rendered by `render` when the unit is new or was touched since. */
  text(unit: T, render: (unit: T) => string): string {
    return this.texts.get(unit) ?? this.set(unit, render(unit));
  }

  /** For units whose text also depends on where they sit (their map keys): `get`, else `set`. */
  get(unit: T): string | undefined {
    return this.texts.get(unit);
  }

  set(unit: T, text: string): string {
    this.texts.set(unit, text);
    this.rendered++;
    return text;
  }
}

/** Any UTF-16 code unit above 0xFF (no `u` flag: surrogates count as such units). */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * `text` (less its last `dropLast` characters) as one flat, one-byte-where-possible string, for
 * caching. JSON.stringify returns a rope of its buffer parts once its output passes a few dozen
 * characters, and a cached rope costs ~2× its characters and is slower to copy at every snapshot.
 * And V8 keeps a string two-byte when it was cut from a two-byte one (the rules YAML has em
 * dashes, so every capture key is) and so is all JSON around it: 2 bytes per character cached,
 * and a snapshot text with any such piece is copied out at twice its size.
 */
export function flat(text: string, dropLast = 0): string {
  const end = text.length - dropLast;
  if (BEYOND_LATIN1.test(text)) return `${text} `.slice(0, end); // a slice of a rope flattens it
  return Buffer.from(text, 'latin1').toString('latin1', 0, end);
}

/** `"key":` as JSON text (object member names are escaped like any string). */
export function member(key: string): string {
  return flat(`${JSON.stringify(key)}:`);
}

/**
 * `"key":<value as JSON>`, flat. Not `JSON.stringify({ [key]: value })`: an object literal with a
 * computed key adds a hidden class per distinct key (sequence keys are task ids).
 */
export function memberJson(key: string, value: unknown): string {
  return flat(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
}
