import { Baselines } from '../baselines/baselines.js';
import type { BaselineConfig } from '../config.js';
import { SequenceState } from '../rules/sequence/matcher.js';
import type { RuleSet } from '../rules/sequence/types.js';
import { internScope } from '../state/intern.js';
import { type DetectorState, emptyDetectorState, type TaskState } from '../state/types.js';
import { type DetectorStats, newStats } from '../stats.js';
import type { DetectorSnapshot } from './types.js';
import type { SnapshotWriter } from './writer.js';

// A detector's state rebuilt from its snapshot (types.ts). Nothing restored shares an object with
// the snapshot, and no restored unit has a cached text yet: the next snapshot renders it.

export interface RestoreOptions {
  /** The rules now loaded: partials of a rule whose fingerprint changed since the snapshot are dropped. */
  rules: RuleSet;
  baselines: BaselineConfig;
  /** The writer of the restored detector's snapshots: it observes the restored sequences and baselines. */
  writer: SnapshotWriter;
}

export interface RestoredDetector {
  state: DetectorState;
  sequences: SequenceState;
  baselines: Baselines;
  stats: DetectorStats;
  /** Tasks with a non-empty reorder buffer. */
  waiting: TaskState[];
}

export function restoreSnapshot(snap: DetectorSnapshot, opts: RestoreOptions): RestoredDetector {
  const s = JSON.parse(JSON.stringify(snap)) as DetectorSnapshot;
  const state = emptyDetectorState();
  const waiting: TaskState[] = [];
  const scopes = (s.scopes ?? []).map((sc) => internScope(sc));
  for (const st of s.tasks) {
    const { scopeRef, declaredScopeRef, ...rest } = st;
    const t: TaskState = rest;
    if (scopeRef !== undefined) t.scope = scopes[scopeRef];
    if (declaredScopeRef !== undefined) t.declaredScope = scopes[declaredScopeRef];
    let byId = state.tasks.get(t.tenant);
    if (byId === undefined) {
      byId = new Map();
      state.tasks.set(t.tenant, byId);
    }
    byId.set(t.id, t);
    if (t.pending !== undefined) waiting.push(t);
  }
  for (const [tenant, id, c] of s.credentials) {
    let byId = state.credentials.get(tenant);
    if (byId === undefined) {
      byId = new Map();
      state.credentials.set(tenant, byId);
    }
    byId.set(id, c);
  }
  const sequences = SequenceState.fromJSON(s.sequences, opts.writer.sequenceKeys);
  sequences.retain(
    new Map(opts.rules.rules.map((r) => [r.meta.id, r.fingerprint])),
    new Map(Object.entries(s.ruleFingerprints)),
  );
  return {
    state,
    sequences,
    baselines: Baselines.fromJSON(s.baselines, opts.baselines, opts.writer.identities),
    stats: { ...newStats(), ...s.stats },
    waiting,
  };
}
