import type { Scope } from '../../../schemas/index.js';
import type { BaselinesJSON } from '../baselines/baselines.js';
import type { SequencesJSON } from '../rules/sequence/matcher.js';
import type { CredentialState, TaskState } from '../state/types.js';
import type { DetectorStats } from '../stats.js';

// The detector snapshot: what the I/O shell persists with the consumed offsets
// (io/snapshot-store.ts), written by writer.ts and read back by restore.ts.

/** A task in a snapshot: scopes are indexes into `DetectorSnapshot.scopes` (stored once each). */
export type SnapshotTask = Omit<TaskState, 'scope' | 'declaredScope'> & {
  scopeRef?: number;
  declaredScopeRef?: number;
};

export interface DetectorSnapshot {
  version: 1;
  /** Distinct scopes: tasks declared with the same scope share one entry (they share one object in memory). */
  scopes: Scope[];
  tasks: SnapshotTask[];
  credentials: [string, string, CredentialState][];
  sequences: SequencesJSON;
  ruleFingerprints: Record<string, string>;
  baselines: BaselinesJSON;
  stats: DetectorStats;
}
