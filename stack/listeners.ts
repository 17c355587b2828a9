import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

// Which process listens on a TCP port, from /proc: the kernel's answer to "has OUR engine bound
// its port?", where a connect or a health check would also succeed against someone else's.

const LISTEN = '0A';

/** Socket inodes in LISTEN state on `port`, any local address, IPv4 and IPv6 (Java uses v6). */
function listeningInodes(port: number): Set<string> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const f = line.trim().split(/\s+/);
      if (f[3] === LISTEN && f[1]?.endsWith(hexPort) && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // gone
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** True when process `pid` itself holds a listening socket on `port`. */
export function listensOn(pid: number, port: number): boolean {
  const listening = listeningInodes(port);
  if (listening.size === 0) return false;
  for (const inode of socketInodesOf(pid)) if (listening.has(inode)) return true;
  return false;
}
