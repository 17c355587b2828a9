import { readdirSync, readFileSync } from 'node:fs';
import { type StackEndpoints, stackStatus } from '../stack/index.js';
import { cmdlineOf } from '../stack/process.js';

// CPU accounting of processes for the benchmarks (Linux /proc): how much CPU a process (the
// gateway, the ingester, the Kafka broker JVM, ClickHouse…) used over a measured window. Events/s
// moves with whatever else runs on the machine; CPU per event much less so.

/**
 * utime + stime of a process (all threads) in µs, or undefined when it is gone/unreadable.
 * `withChildren`: add its child processes' (e.g. the gateway's cluster workers).
 */
export function processCpuMicros(
  pid: number | undefined,
  opts: { withChildren?: boolean } = {},
): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let us = ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
    if (opts.withChildren) {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' '))
        us += processCpuMicros(Number(child), opts) ?? 0;
    }
    return us;
  } catch {
    return undefined;
  }
}

export interface BrokerPid {
  pid: number;
  /** `stack`: the pid the local stack recorded; `proc-scan`: the only kafka.Kafka JVM found. */
  source: 'stack' | 'proc-scan';
}

export interface StackPids {
  kafka?: BrokerPid;
  /** The ClickHouse engine, when the local stack runs it. */
  clickhouse?: number;
}

/**
 * Pids of the engines: the ones the local stack recorded and still runs (stack status); for
 * the broker, else the single `java … kafka.Kafka` process on this machine (e.g. KAFKA_BROKERS
 * pointing at a broker started by hand). Absent when there is none, or more than one broker.
 */
export async function stackPids(stack: StackEndpoints): Promise<StackPids> {
  const status = await stackStatus({ stateDir: stack.stateDir });
  const out: StackPids = {};
  if (status.clickhouse.state === 'running' && status.clickhouse.pid) out.clickhouse = status.clickhouse.pid;
  if (status.kafka.state === 'running' && status.kafka.pid) {
    out.kafka = { pid: status.kafka.pid, source: 'stack' };
    return out;
  }
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdlineOf(Number(entry));
    if (/(^|\/)java$/.test(argv[0] ?? '') && argv.includes('kafka.Kafka')) found.push(Number(entry));
  }
  if (found.length === 1) out.kafka = { pid: found[0]!, source: 'proc-scan' };
  return out;
}

/**
 * CPU of named processes over a window: `start()` samples every pid; `micros()` gives each
 * one's CPU µs since then, `cores()` the same in cores (1.0 = one core busy for the whole
 * window). Pids that are gone or unknown are left out.
 */
export function cpuMeter(pids: Record<string, number | undefined>, opts: { withChildren?: boolean } = {}) {
  let t0 = 0;
  const before = new Map<string, number>();
  const micros = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const a = before.get(name);
      const b = processCpuMicros(pid, opts);
      if (a !== undefined && b !== undefined) out[name] = b - a;
    }
    return out;
  };
  return {
    start(): void {
      t0 = performance.now();
      before.clear();
      for (const [name, pid] of Object.entries(pids)) {
        const us = processCpuMicros(pid, opts);
        if (us !== undefined) before.set(name, us);
      }
    },
    micros,
    cores(): Record<string, number> {
      const wallUs = (performance.now() - t0) * 1000;
      return Object.fromEntries(
        Object.entries(micros()).map(([name, us]) => [name, Math.round((us / wallUs) * 100) / 100]),
      );
    },
  };
}
