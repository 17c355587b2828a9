import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Small JSON records kept next to an engine's data (`<dir>/instance.json`) and for the
 * whole stack (`<stateDir>/stack.json`). Written via rename so a crash never leaves half a file.
 */
export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

export const instanceFile = (dir: string): string => join(dir, 'instance.json');

/**
 * Forget the pid after a clean stop, so that status can tell "stopped" (no pid) from
 * "dead" (a recorded pid whose process is gone: crashed or killed).
 */
export function markStopped(dir: string): void {
  const path = instanceFile(dir);
  const record = readJson<Record<string, unknown>>(path);
  if (record && 'pid' in record) {
    delete record.pid;
    writeJson(path, record);
  }
}

/** What a started engine (Kafka broker, ClickHouse) looks like to its caller. */
export interface EngineHandle {
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  /** True when start found this instance already running and healthy. */
  readonly reused: boolean;
  /** SIGTERM and wait for a clean shutdown (SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** SIGKILL: a simulated crash. */
  kill(): Promise<void>;
  /** Start again in the same folder on the same ports; data is kept. */
  restart(): Promise<void>;
}
