import { expect } from 'vitest';
import {
  type IngesterProcess,
  type StoredCounts,
  spawnIngester,
  waitForRows,
} from '../../bench/ingest-harness.js';
import { clickhouseClient } from './stack.js';

// kill -9 of a real ingester mid-stream, then a restart, while the stream is still being produced:
// the procedure of ingester-crash.int.test.ts (rows path) and ingest-modes.int.test.ts (input
// mode). Kafka redelivers everything after the last commit; every event must be stored exactly
// once as reads see it (distinct ids, FINAL), whatever the merge state.

export interface KillRestartOptions {
  /** The ingester's options, without its name (each process gets `<database>-1`, `-2`). */
  ingester: Omit<Parameters<typeof spawnIngester>[0], 'name'>;
  /** Resolves once every event is produced. */
  producing: Promise<unknown>;
  events: number;
  /** Rows stored (duplicates included) before the kill. */
  killAfterRows: number;
  /** Runs with the restarted ingester still up, after every event is stored. */
  afterRestart?: (second: IngesterProcess, after: StoredCounts) => Promise<void> | void;
}

export async function killMidStreamAndRestart(
  o: KillRestartOptions,
): Promise<{ before: StoredCounts; after: StoredCounts }> {
  const { database } = o.ingester;
  const first = spawnIngester({ ...o.ingester, name: `${database}-1` });
  const ch = clickhouseClient();
  try {
    const before = await waitForRows(ch, database, o.killAfterRows, 60_000, {
      distinct: false,
      intervalMs: 20,
    });
    first.child.kill('SIGKILL');
    expect((await first.waitExit()).signal).toBe('SIGKILL');
    expect(before.raw).toBeLessThan(o.events);
    const second = spawnIngester({ ...o.ingester, name: `${database}-2` });
    try {
      await o.producing;
      const after = await waitForRows(ch, database, o.events, 90_000);
      expect(after.distinct).toBe(o.events);
      expect(after.final).toBe(o.events);
      // Redelivered rows may sit unmerged (raw ≥ events); the reads above do not depend on it.
      expect(after.raw).toBeGreaterThanOrEqual(o.events);
      await o.afterRestart?.(second, after);
      return { before, after };
    } finally {
      if (!second.exited()) {
        second.child.kill('SIGTERM');
        await second.waitExit().catch(() => second.child.kill('SIGKILL'));
      }
    }
  } finally {
    if (!first.exited()) first.child.kill('SIGKILL');
    await o.producing.catch(() => {});
    await ch.close();
  }
}
