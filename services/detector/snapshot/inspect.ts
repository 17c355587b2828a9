import { type Detector, snapshotWriterOf } from '../engine.js';
import type { SnapshotRenders } from './writer.js';

// Diagnostics of a detector's incremental snapshots, for the bench and the tests; not part of the
// detector's API (engine.ts).

/**
 * How many units snapshots of `detector` have serialised so far (new or changed since the
 * snapshot before), per kind.
 */
export function snapshotRenders(detector: Detector): SnapshotRenders {
  return snapshotWriterOf(detector).renders();
}

/** The snapshot text of today's state written in one full pass: the reference for tests. */
export function fullSnapshotJsonForTest(detector: Detector): string {
  return snapshotWriterOf(detector).fullText();
}
