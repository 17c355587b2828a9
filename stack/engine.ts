import { listensOn } from './listeners.js';
import type { Log } from './paths.js';
import { withPortLock } from './port-lock.js';
import { isPortFree } from './ports.js';
import { isAlive, tailFile, terminate, waitUntil } from './process.js';

// What starting an engine (Kafka broker, ClickHouse) has in common, whatever the engine:
// adopt the recorded process when it is ours and healthy, else stop it; choose ports and spawn
// under the port lock; wait for health but give up at once, with its last log lines, if it exits.

export interface Running {
  pid: number;
  /** Display name for logs and errors, e.g. "Kafka". */
  what: string;
  healthy: () => Promise<boolean>;
  timeoutMs: number;
  log: Log;
}

/**
 * True when the running instance answers within the start budget (it may still be starting,
 * e.g. during a concurrent `stack up`). Otherwise, or when `reuse` is false (other ports
 * were asked for), it is stopped and the caller starts a new one.
 */
export async function adoptOrStop(running: Running, reuse: boolean): Promise<boolean> {
  if (reuse) {
    try {
      await waitUntil(running.healthy, {
        what: `running ${running.what}`,
        timeoutMs: running.timeoutMs,
        failFast: () => (isAlive(running.pid) ? undefined : 'exited'),
      });
      return true;
    } catch (err) {
      running.log(
        `${running.what} pid ${running.pid} is not healthy (${(err as Error).message}); restarting it`,
      );
    }
  }
  await terminate(running.pid);
  return false;
}

/** Wait until a just-spawned engine is healthy; fail fast with its logs if it exits. */
export async function awaitStarted(
  started: Running & { endpoint: string; intervalMs: number; logFiles: string[]; spawnedAt?: number },
): Promise<void> {
  const t0 = started.spawnedAt ?? Date.now();
  await waitUntil(started.healthy, {
    what: `${started.what} on ${started.endpoint}`,
    timeoutMs: started.timeoutMs,
    intervalMs: started.intervalMs,
    failFast: () =>
      isAlive(started.pid) ? undefined : `exited during start; last log lines:\n${tails(started.logFiles)}`,
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  started.log(`${started.what} ready on ${started.endpoint} in ${seconds} s (pid ${started.pid})`);
}

export interface Launch {
  /** Display name for logs and errors, e.g. "Kafka". */
  what: string;
  /** Who holds the port lock meanwhile, for other stacks' messages (the instance dir). */
  owner: string;
  /** The engine's ports, in its own order, none of them in `avoid`. */
  choose: (avoid: ReadonlySet<number>) => Promise<number[]>;
  /** Start the engine on those ports (recording it); returns its pid. */
  spawn: (ports: number[]) => number;
  /** Ports were asked for explicitly: never try others. */
  fixed: boolean;
  timeoutMs: number;
  logFiles: string[];
  log: Log;
}

/**
 * Choose ports and start the engine on them under the machine-wide port lock, held until the
 * engine's own process listens on every one (seen in /proc, not by connecting, which another
 * stack's engine would answer too). A port taken meanwhile by a process outside the lock makes
 * the engine exit; then it is started again on other ports (twice at most).
 */
export async function launchOnFreePorts(
  l: Launch,
): Promise<{ pid: number; ports: number[]; spawnedAt: number }> {
  return withPortLock(
    l.owner,
    async (lock) => {
      const lost = new Set<number>();
      for (let attempt = 1; ; attempt++) {
        const ports = await l.choose(new Set([...lock.claimed, ...lost]));
        for (const port of ports) lock.claim(port);
        const spawnedAt = Date.now();
        const pid = l.spawn(ports);
        try {
          await waitUntil(async () => ports.every((port) => listensOn(pid, port)), {
            what: `${l.what} binding 127.0.0.1:${ports.join(',')}`,
            timeoutMs: l.timeoutMs,
            intervalMs: 100,
            failFast: () => (isAlive(pid) ? undefined : `exited; last log lines:\n${tails(l.logFiles)}`),
          });
          return { pid, ports, spawnedAt };
        } catch (err) {
          const taken = isAlive(pid) ? [] : await takenOf(ports);
          if (l.fixed || attempt >= 3 || taken.length === 0) throw err;
          l.log(`${l.what} could not bind ${taken.join(', ')} (taken meanwhile); trying other ports`);
          for (const port of taken) lost.add(port);
        }
      }
    },
    { log: l.log },
  );
}

async function takenOf(ports: number[]): Promise<number[]> {
  const taken: number[] = [];
  for (const port of ports) if (!(await isPortFree(port))) taken.push(port);
  return taken;
}

function tails(files: string[]): string {
  return files.map((f) => tailFile(f)).join('\n');
}
