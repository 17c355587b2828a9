import { createConnection, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One lock for the whole machine, whatever the state dir: held from choosing an engine's ports
 * until the engine has bound them (engine.ts), so two `stack up` of different state dirs can
 * never pick the same free port. Without it both saw 9102 free and started on it.
 *
 * The lock is a listening socket in Linux's abstract namespace (no file), not a lock file in
 * os.tmpdir(): the kernel releases it the moment its holder exits, kill -9 included, so there
 * is no stale lock to detect and break (breaking a lock file safely needs the owner's pid, which
 * can be reused, and two breakers can each remove the other's fresh lock). The stack only runs
 * on Linux (libchdb, /proc). The holder answers a connection with who it is, for messages.
 *
 * Kafka binds its broker port only when it is nearly ready, so a second `stack up` started at
 * the same moment waits those few seconds before it chooses; its engines still start then.
 *
 * Within one process the lock is shared (Kafka and ClickHouse of one `up` start in parallel);
 * `claimed` holds the ports chosen under it and not yet released, so they choose apart.
 */
const LOCK_ADDRESS = '\0agenttrail-stack-ports';

interface Held {
  server: Server;
  users: number;
  claimed: Set<number>;
}

let held: Held | undefined;
let acquiring: Promise<Held> | undefined;

export interface PortLock {
  /** Ports chosen under the lock in this process and not yet released: not free to choose. */
  readonly claimed: ReadonlySet<number>;
  claim(port: number): void;
}

export async function withPortLock<T>(
  who: string,
  fn: (lock: PortLock) => Promise<T>,
  opts: { timeoutMs?: number; log?: (msg: string) => void } = {},
): Promise<T> {
  const lock = await acquire(who, opts.timeoutMs ?? 180_000, opts.log);
  const mine: number[] = [];
  const view: PortLock = {
    claimed: lock.claimed,
    claim(port) {
      mine.push(port);
      lock.claimed.add(port);
    },
  };
  try {
    return await fn(view);
  } finally {
    for (const port of mine) lock.claimed.delete(port);
    if (--lock.users === 0) {
      held = undefined;
      await new Promise<void>((resolve) => lock.server.close(() => resolve()));
    }
  }
}

/** Counts this user in the same synchronous step that finds the lock held: no gap to lose it in. */
async function acquire(who: string, timeoutMs: number, log?: (msg: string) => void): Promise<Held> {
  for (;;) {
    if (held) {
      held.users++;
      return held;
    }
    acquiring ??= listenUntil(who, Date.now() + timeoutMs, log)
      .then((h) => {
        held = h;
        return h;
      })
      .finally(() => {
        acquiring = undefined;
      });
    await acquiring;
  }
}

async function listenUntil(who: string, deadline: number, log?: (msg: string) => void): Promise<Held> {
  for (let attempt = 0; ; attempt++) {
    const server = await tryListen(who);
    if (server) return { server, users: 0, claimed: new Set() };
    if (attempt === 0)
      log?.(`port lock held by ${await askOwner()}; waiting until its engine has bound its ports`);
    if (Date.now() > deadline) {
      throw new Error(
        `gave up waiting for the local stack's port lock, held by ${await askOwner()}; ` +
          'if that process is stuck, stop it and run `stack up` again',
      );
    }
    await sleep(200);
  }
}

function tryListen(who: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((conn) => conn.end(`pid ${process.pid} (${who})`));
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err),
    );
    server.listen(LOCK_ADDRESS, () => {
      // Never the reason a finished `stack up` stays alive.
      server.unref();
      resolve(server);
    });
  });
}

/** The holder's self-description, or a generic one if it does not answer in time. */
function askOwner(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => resolve(text.trim() || 'another `stack up`');
    const conn = createConnection(LOCK_ADDRESS);
    conn.setTimeout(1000, () => conn.destroy());
    conn.on('data', (c: Buffer) => {
      text += c.toString();
    });
    conn.once('error', done);
    conn.once('close', done);
  });
}
