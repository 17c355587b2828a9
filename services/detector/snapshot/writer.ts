import type { Scope } from '../../../schemas/index.js';
import { type Baselines, type IdentityBaseline, identityJSON } from '../baselines/baselines.js';
import type { KeyState, SequenceState } from '../rules/sequence/matcher.js';
import type { RuleSet } from '../rules/sequence/types.js';
import type { CredentialState, DetectorState, TaskState } from '../state/types.js';
import type { DetectorStats } from '../stats.js';
import { flat, JsonFragments, member, memberJson } from './fragments.js';
import type { DetectorSnapshot, SnapshotTask } from './types.js';

// The detector snapshot as JSON text (the `DetectorSnapshot` shape of types.ts, read back by
// restore.ts), built from per-unit cached texts (fragments.ts) by plain concatenation. In V8 that
// makes a rope, O(1) per piece; the one copy into flat memory happens where the text is used: the
// Buffer.from in io/snapshot-store.ts, which copied the one-pass text too (spliced into its envelope).
// Measured at 10,000 tasks: joining the ~100,000 pieces into a flat string here took ~50 ms,
// several times the rest of a snapshot with little changed. With every unit touched, a snapshot
// costs what the one-pass serialisation did (same process, alternating: 411-455 vs 416-462 ms).
//
// `fullSnapshotJson` is the one-pass serialisation this replaced, kept as the reference the
// tests hold the incremental text to: both must give the same JSON value for the same state,
// so a change to the format goes into both.
//
// The writer's caches are also the observers the domain notifies of in-place changes
// (state/changes.ts): the engine hands them to its state, sequences and baselines, which never
// import this folder.

export interface SnapshotSources {
  state: DetectorState;
  sequences: SequenceState;
  baselines: Baselines;
  rules: RuleSet;
  stats: DetectorStats;
}

/** A task's JSON without its scopes and without the closing brace: scope refs are appended per snapshot. */
function taskText(t: TaskState): string {
  const { scope, declaredScope, ...rest } = t;
  return flat(JSON.stringify(rest), 1);
}

function scopeText(scope: Scope): string {
  return flat(JSON.stringify(scope));
}

function ruleFingerprints(rules: RuleSet): Record<string, string> {
  return Object.fromEntries(rules.rules.map((r) => [r.meta.id, r.fingerprint]));
}

/** Units rendered by a writer's snapshots so far, per kind. */
export interface SnapshotRenders {
  tasks: number;
  credentials: number;
  sequenceKeys: number;
  identities: number;
}

/**
 * Writes snapshots of one detector, re-rendering only the units touched since the last one.
 * Scope indexes are re-derived at every snapshot, in the order the full pass assigns them
 * (first reference, walking the tasks): they depend on which tasks still exist and in what
 * order, so they are not part of a task's cached text, which stops just before them.
 */
export class SnapshotWriter {
  readonly tasks = new JsonFragments<TaskState>();
  readonly credentials = new JsonFragments<CredentialState>();
  readonly sequenceKeys = new JsonFragments<KeyState>();
  readonly identities = new JsonFragments<IdentityBaseline>();
  /** Scopes are interned and never changed in place (state/intern.ts): rendered once per object. */
  private readonly scopes = new JsonFragments<Scope>();
  /** The end of a task's text by (scopeRef, declaredScopeRef): a few distinct strings, reused. */
  private readonly ends = new Map<number, string>();

  /** `sources`: the detector's live state, read at each snapshot. */
  constructor(private readonly sources: () => SnapshotSources) {}

  /** Units rendered by snapshots so far, per kind (the rest were cached texts): a diagnostic. */
  renders(): SnapshotRenders {
    return {
      tasks: this.tasks.rendered,
      credentials: this.credentials.rendered,
      sequenceKeys: this.sequenceKeys.rendered,
      identities: this.identities.rendered,
    };
  }

  /** The state now in the one-pass serialisation: the reference the tests hold `write()` to. */
  fullText(): string {
    return fullSnapshotJson(this.sources());
  }

  /** The snapshot text of the state now: only units touched since the last call are rendered again. */
  write(): string {
    const src = this.sources();
    const scopes: string[] = [];
    const scopeIndex = new Map<Scope, number>();
    const ref = (scope: Scope | undefined): number => {
      if (scope === undefined) return -1;
      let i = scopeIndex.get(scope);
      if (i === undefined) {
        i = scopes.length;
        scopes.push(this.scopes.text(scope, scopeText));
        scopeIndex.set(scope, i);
      }
      return i;
    };
    let tasks = '';
    for (const byId of src.state.tasks.values()) {
      for (const t of byId.values()) {
        if (tasks.length > 0) tasks += ',';
        const text = this.tasks.text(t, taskText);
        // Evaluated in this order (scope, then declared scope), as the full pass numbers them.
        const sr = ref(t.scope);
        tasks += text + this.end(sr, ref(t.declaredScope), text.length > 1);
      }
    }
    let credentials = '';
    for (const [tenant, byId] of src.state.credentials) {
      for (const [id, c] of byId) {
        if (credentials.length > 0) credentials += ',';
        credentials +=
          this.credentials.get(c) ?? this.credentials.set(c, flat(JSON.stringify([tenant, id, c])));
      }
    }
    return (
      `{"version":1,"scopes":[${scopes.join(',')}],"tasks":[${tasks}],"credentials":[${credentials}]` +
      `,"sequences":${this.sequencesText(src.sequences)}` +
      `,"ruleFingerprints":${flat(JSON.stringify(ruleFingerprints(src.rules)))}` +
      `,"baselines":${this.baselinesText(src.baselines)},"stats":${JSON.stringify(src.stats)}}`
    );
  }

  /** `JSON.stringify(sequences.toJSON())`, concatenated from the cached text of each key state. */
  private sequencesText(sequences: SequenceState): string {
    let out = '{"rules":{';
    let rules = 0;
    for (const [id, tenants] of sequences.byRule) {
      if (rules++ > 0) out += ',';
      out += `${member(id)}{`;
      let count = 0;
      for (const [tenant, keys] of tenants) {
        if (count++ > 0) out += ',';
        out += `${member(tenant)}{`;
        let n = 0;
        for (const [key, ks] of keys) {
          if (n++ > 0) out += ',';
          out += this.sequenceKeys.get(ks) ?? this.sequenceKeys.set(ks, memberJson(key, ks));
        }
        out += '}';
      }
      out += '}';
    }
    return `${out}},"stats":${JSON.stringify(sequences.stats)}}`;
  }

  /** `JSON.stringify(baselines.toJSON())`, concatenated from the cached text of each identity. */
  private baselinesText(baselines: Baselines): string {
    let out = '{"identities":{';
    let n = 0;
    for (const [tenant, byId] of baselines.identities)
      for (const [id, b] of byId) {
        if (n++ > 0) out += ',';
        out +=
          this.identities.get(b) ?? this.identities.set(b, memberJson(`${tenant}/${id}`, identityJSON(b)));
      }
    return `${out}}}`;
  }

  /** `,"scopeRef":0,"declaredScopeRef":0}` and the like (-1: absent); `more`: a member precedes. */
  private end(sr: number, dr: number, more: boolean): string {
    // A number key, exact while both refs stay under 2^21 (more distinct scopes: not cached).
    const cacheable = sr < 0x1fffff && dr < 0x1fffff;
    const key = ((sr + 1) * 0x200000 + (dr + 1)) * 2 + (more ? 1 : 0);
    let end = cacheable ? this.ends.get(key) : undefined;
    if (end === undefined) {
      const refs: string[] = [];
      if (sr >= 0) refs.push(`"scopeRef":${sr}`);
      if (dr >= 0) refs.push(`"declaredScopeRef":${dr}`);
      end = `${more && refs.length > 0 ? ',' : ''}${refs.join(',')}}`;
      if (cacheable) {
        // Distinct pairs are few (tasks of one template share one scope), but not capped.
        if (this.ends.size >= 4096) this.ends.clear();
        this.ends.set(key, end);
      }
    }
    return end;
  }
}

/** The whole state serialised in one pass, with each interned scope written once. */
export function fullSnapshotJson(src: SnapshotSources): string {
  const scopes: Scope[] = [];
  const scopeIndex = new Map<Scope, number>();
  const ref = (scope: Scope | undefined): number | undefined => {
    if (scope === undefined) return undefined;
    let i = scopeIndex.get(scope);
    if (i === undefined) {
      i = scopes.length;
      scopes.push(scope);
      scopeIndex.set(scope, i);
    }
    return i;
  };
  const tasks: SnapshotTask[] = [];
  for (const byId of src.state.tasks.values()) {
    for (const t of byId.values()) {
      const { scope, declaredScope, ...rest } = t;
      const out: SnapshotTask = rest;
      const sr = ref(scope);
      const dr = ref(declaredScope);
      if (sr !== undefined) out.scopeRef = sr;
      if (dr !== undefined) out.declaredScopeRef = dr;
      tasks.push(out);
    }
  }
  const credentials: [string, string, CredentialState][] = [];
  for (const [tenant, byId] of src.state.credentials)
    for (const [id, c] of byId) credentials.push([tenant, id, c]);
  const snap: DetectorSnapshot = {
    version: 1,
    scopes,
    tasks,
    credentials,
    sequences: src.sequences.toJSON(),
    ruleFingerprints: ruleFingerprints(src.rules),
    baselines: src.baselines.toJSON(),
    stats: src.stats,
  };
  return JSON.stringify(snap);
}
