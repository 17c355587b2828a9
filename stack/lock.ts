import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process.js';

/**
 * Serialise `stack up`/`stack down` across processes (a developer's terminal and a test
 * run may race). mkdir is atomic; the owner's pid inside lets us break a stale lock.
 */
export async function withStackLock<T>(
  stateDir: string,
  fn: () => Promise<T>,
  timeoutMs = 180_000,
): Promise<T> {
  const lockDir = join(stateDir, 'stack.lock');
  const until = Date.now() + timeoutMs;
  mkdirSync(stateDir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readOwner(lockDir));
      if (owner && !isAlive(owner)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > until)
        throw new Error(`timed out waiting for ${lockDir} (held by pid ${owner || '?'})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function readOwner(lockDir: string): string {
  try {
    return readFileSync(join(lockDir, 'pid'), 'utf8');
  } catch {
    return '';
  }
}
