import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Start a long-running engine in its own session, detached from the caller, so that
 * `agenttrail stack up` can exit while the engine keeps running. Output goes to a file.
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  opts: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): number {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Alive and not a zombie (a zombie answers kill(pid, 0) but is already gone). */
export function isAlive(pid: number | undefined): pid is number {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but is someone else's: alive, though not ours.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** argv of a running process, or [] if it is gone. */
export function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * A recorded pid is only ours if it is alive AND its command line still carries our marker
 * (e.g. the instance's config path): pids get reused after a reboot or a crash.
 */
export function isOurProcess(pid: number | undefined, marker: string): pid is number {
  return isAlive(pid) && cmdlineOf(pid).some((arg) => arg.includes(marker));
}

async function waitForExit(pid: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGTERM, wait up to graceMs for a clean shutdown, then SIGKILL. Resolves when gone. */
export async function terminate(pid: number, graceMs = 30_000): Promise<'term' | 'kill' | 'gone'> {
  if (!isAlive(pid)) return 'gone';
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return 'term';
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 10_000);
  return 'kill';
}

/** SIGKILL (a simulated crash) and wait until the process is really gone. */
export async function killHard(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`pid ${pid} survived SIGKILL`);
}

/**
 * Poll `check` until it returns true. `failFast` is consulted between polls: if it returns
 * a message (e.g. "process exited"), waiting stops at once with that error.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  opts: { what: string; timeoutMs: number; intervalMs?: number; failFast?: () => string | undefined },
): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    const fatal = opts.failFast?.();
    if (fatal) throw new Error(`${opts.what}: ${fatal}`);
    if (Date.now() > until) throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms`);
    await sleep(opts.intervalMs ?? 250);
  }
}

/** Last lines of a log file, for error messages when an engine dies at start. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
