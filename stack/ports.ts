import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const HOST = '127.0.0.1';

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Wait (briefly) for a port to become bindable, e.g. right after its owner was killed. */
export async function waitPortFree(port: number, timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await isPortFree(port))) {
    if (Date.now() > until) return false;
    await sleep(200);
  }
  return true;
}

/** The kernel's range for outgoing connections' local ports (Linux default 32768-60999). */
function localPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (lo && hi) return [lo, hi];
  } catch {
    // not Linux: assume the default
  }
  return [32768, 60999];
}

/**
 * A random free port OUTSIDE the kernel's ephemeral range. Ports from that range are also
 * handed out as local ports of outgoing connections: once an engine on such a port is
 * killed, any client's reconnect may grab it and the restart on the same port fails.
 */
export async function randomFreePort(avoid: readonly number[] = []): Promise<number> {
  const [lo, hi] = localPortRange();
  const [from, to] = lo - 10_000 >= 1024 ? [10_000, lo] : [hi + 1, 65_536];
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (!avoid.includes(port) && (await isPortFree(port))) return port;
  }
  throw new Error(`no free port found in ${from}-${to - 1}`);
}

/**
 * First free port at or after `preferred`, skipping `avoid` (ports already chosen for a
 * sibling listener). Scanning upward keeps the fallback predictable (9092 -> 9094 ...),
 * which is friendlier to humans reading `stack status` than a random ephemeral port.
 */
export async function pickPort(preferred: number, avoid: readonly number[] = []): Promise<number> {
  for (let port = preferred; port < preferred + 200 && port < 65536; port++) {
    if (avoid.includes(port)) continue;
    if (await isPortFree(port)) return port;
  }
  return randomFreePort(avoid);
}

export interface PortChoice {
  /** Display name for messages, e.g. "Kafka controller". */
  what: string;
  /** Asked for explicitly: must be free (after a short wait), or the start fails. */
  requested?: number;
  /** Where this engine listened before (its instance record). */
  recorded?: number;
  /** The well-known port (9092, 8123). */
  preferred: number;
  /** Ports already chosen for a sibling listener or claimed under the port lock. */
  avoid: Iterable<number>;
  log?: (msg: string) => void;
}

/**
 * The port an engine listens on: the requested one; else the recorded one whenever it is free
 * (after a crash every client still points there; moving silently is what left a gateway on
 * 503 for minutes); else the well-known port when free (what people and configs expect); else
 * the next free one upward. Call it under the port lock (port-lock.ts), or it can race.
 */
export async function choosePort(c: PortChoice): Promise<number> {
  const avoid = [...c.avoid];
  if (c.requested !== undefined) {
    if (!(await waitPortFree(c.requested)))
      throw new Error(`${c.what} port ${c.requested} is already in use`);
    return c.requested;
  }
  if (c.recorded !== undefined && !avoid.includes(c.recorded)) {
    // A just-killed engine's listener may take a moment to go away.
    if (await waitPortFree(c.recorded, 3_000)) return c.recorded;
  }
  const port = await pickPort(c.preferred, avoid);
  if (c.recorded !== undefined) {
    c.log?.(`${c.what}: port ${c.recorded} it used before is taken; moving to ${port} (update clients)`);
  }
  return port;
}
