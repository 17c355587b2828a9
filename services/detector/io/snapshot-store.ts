import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectorSnapshot } from '../snapshot/types.js';

// The detector's durable state: the engine snapshot plus, per partition, the next offset to
// consume. Both are written together, atomically (tmp file, fsync, rename, fsync of the
// directory), so after a crash the file holds either the old pair or the new one, never a mix.

export interface StoredSnapshot {
  version: 1;
  /** Wall-clock time of the write; a restart suppresses alerts stored since then (minus a margin). */
  written_at_ms: number;
  topic: string;
  /** partition → next offset to consume (the state includes every message before it). */
  offsets: Record<string, string>;
  detector: DetectorSnapshot;
}

const FILE = 'detector-snapshot.json';

export class SnapshotStore {
  readonly path: string;

  constructor(private readonly dir: string) {
    this.path = join(dir, FILE);
  }

  /** The last complete snapshot, or undefined when none was ever written. */
  read(): StoredSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const snap = JSON.parse(text) as StoredSnapshot;
    if (snap.version !== 1) throw new Error(`${this.path}: unknown snapshot version ${String(snap.version)}`);
    return snap;
  }

  /**
   * Write the positions and the engine's snapshot text (`detector.snapshotJson()`), spliced in
   * as is rather than parsed and serialised again. Returns the bytes written.
   */
  write(meta: Omit<StoredSnapshot, 'detector'>, detectorJson: string): number {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const data = Buffer.from(`${JSON.stringify(meta).slice(0, -1)},"detector":${detectorJson}}`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    // The rename itself is durable only once the directory entry is on disk.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return data.length;
  }
}
