import type { Log } from './paths.js';
import { isAlive, tailFile, terminate, waitUntil } from './process.js';

// What starting an engine (Kafka broker, ClickHouse) has in common, whatever the engine:
// adopt the recorded process when it is ours and healthy, else stop it; after spawning a
// new one, wait for health but give up at once, with its last log lines, if it exits.

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
  started: Running & { endpoint: string; intervalMs: number; logFiles: string[] },
): Promise<void> {
  const t0 = Date.now();
  await waitUntil(started.healthy, {
    what: `${started.what} on ${started.endpoint}`,
    timeoutMs: started.timeoutMs,
    intervalMs: started.intervalMs,
    failFast: () =>
      isAlive(started.pid)
        ? undefined
        : `exited during start; last log lines:\n${started.logFiles.map((f) => tailFile(f)).join('\n')}`,
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  started.log(`${started.what} ready on ${started.endpoint} in ${seconds} s (pid ${started.pid})`);
}
