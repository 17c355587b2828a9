import { readdirSync, readFileSync } from 'node:fs';
import { type StackEndpoints, stackStatus } from '../stack/index.js';

// CPU accounting of other processes for the benchmarks (Linux /proc): how much CPU a process
// (e.g. the Kafka broker JVM) used over a measured window, and which pid the broker is.

/** utime + stime of a process (all threads) in µs, or undefined when it is gone/unreadable. */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

export interface BrokerPid {
  pid: number;
  /** `stack`: the pid the local stack recorded; `proc-scan`: the only kafka.Kafka JVM found. */
  source: 'stack' | 'proc-scan';
}

/**
 * The Kafka broker's pid: the one the local stack recorded and still runs (stack status), else
 * the single `java … kafka.Kafka` process on this machine (e.g. KAFKA_BROKERS pointing at a
 * broker started by hand). Undefined when there is none or more than one to choose from.
 */
export async function kafkaBrokerPid(stack: StackEndpoints): Promise<BrokerPid | undefined> {
  const status = await stackStatus({ stateDir: stack.stateDir });
  if (status.kafka.state === 'running' && status.kafka.pid) return { pid: status.kafka.pid, source: 'stack' };
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)java$/.test(argv[0] ?? '') && argv.includes('kafka.Kafka')) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found.length === 1 ? { pid: found[0]!, source: 'proc-scan' } : undefined;
}

/** The ClickHouse engine's pid when the local stack runs it. */
export async function clickhousePid(stack: StackEndpoints): Promise<number | undefined> {
  const status = await stackStatus({ stateDir: stack.stateDir });
  return status.clickhouse.state === 'running' ? status.clickhouse.pid : undefined;
}

/**
 * CPU of named processes over a window: `start()` samples every pid, `cores()` gives each one's
 * CPU since then in cores (1.0 = one core busy for the whole window). Pids that are gone or
 * unknown are left out.
 */
export function cpuMeter(pids: Record<string, number | undefined>) {
  let t0 = 0;
  const before = new Map<string, number>();
  return {
    start(): void {
      t0 = performance.now();
      for (const [name, pid] of Object.entries(pids)) {
        const us = processCpuMicros(pid);
        if (us !== undefined) before.set(name, us);
      }
    },
    cores(): Record<string, number> {
      const wallUs = (performance.now() - t0) * 1000;
      const out: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const a = before.get(name);
        const b = processCpuMicros(pid);
        if (a !== undefined && b !== undefined) out[name] = Math.round(((b - a) / wallUs) * 100) / 100;
      }
      return out;
    },
  };
}
