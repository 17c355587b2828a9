import { createServer } from 'node:net';

const HOST = '127.0.0.1';

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: HOST, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS considers free right now (it may be taken again before we use it). */
export function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: HOST }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
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
  const port = await ephemeralPort();
  if (avoid.includes(port)) return pickPort(port + 1, avoid);
  return port;
}
