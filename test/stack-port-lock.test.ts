import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../stack/paths.js';
import { withPortLock } from '../stack/port-lock.js';

// The machine-wide lock `stack up` holds while it chooses and binds ports (stack/port-lock.ts):
// another process waits for it, and a holder killed with -9 leaves no stale lock behind.

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A process that takes the lock, says "held", and keeps it for `holdMs` (or forever). */
function holder(holdMs: number): Promise<ChildProcess> {
  const code = `
    const { withPortLock } = await import(${JSON.stringify(join(repoRoot, 'stack', 'port-lock.ts'))});
    await withPortLock('test holder', async () => {
      process.stdout.write('held\\n');
      await new Promise((r) => setTimeout(r, ${holdMs}));
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => c.toString().includes('held') && resolve(child));
    child.once('exit', (status) => reject(new Error(`holder exited ${status} before holding the lock`)));
  });
}

describe('stack port lock', () => {
  it('another process waits until the holder releases it, and is told who holds it', async () => {
    await holder(1_500);
    const messages: string[] = [];
    const t0 = Date.now();
    await withPortLock('test waiter', async () => {}, { log: (m) => messages.push(m) });
    expect(Date.now() - t0).toBeGreaterThan(1_000);
    expect(messages.join('\n')).toMatch(/port lock held by pid \d+ \(test holder\)/);
  }, 20_000);

  it('a holder killed with -9 releases it at once (no stale lock)', async () => {
    const child = await holder(600_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const t0 = Date.now();
    await withPortLock('test after kill', async () => {}, { timeoutMs: 5_000 });
    expect(Date.now() - t0).toBeLessThan(2_000);
  }, 20_000);

  it('gives up with a message naming the holder after its timeout', async () => {
    await holder(600_000);
    await expect(withPortLock('test impatient', async () => {}, { timeoutMs: 300 })).rejects.toThrow(
      /held by pid \d+ \(test holder\)/,
    );
  }, 20_000);

  it('is shared within a process; each holder sees the ports the others claimed', async () => {
    let release: () => void = () => {};
    const first = withPortLock('a', async (lock) => {
      lock.claim(40_001);
      await new Promise<void>((r) => {
        release = r;
      });
      return [...lock.claimed];
    });
    await new Promise((r) => setTimeout(r, 50));
    const second = await withPortLock('b', async (lock) => {
      lock.claim(40_002);
      return [...lock.claimed];
    });
    expect(second.sort()).toEqual([40_001, 40_002]);
    release();
    expect(await first).toEqual([40_001]); // b's claim ended with b
  });
});
