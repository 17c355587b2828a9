import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { type EngineHandle, instanceFile, markStopped, readJson, writeJson } from './instance.js';
import { type Log, stackSourceDir, stderrLog } from './paths.js';
import { pickPort, waitPortFree } from './ports.js';
import { requireTool } from './prereqs.js';
import { isAlive, isOurProcess, killHard, spawnDetached, tailFile, terminate, waitUntil } from './process.js';

export interface ClickHouseOptions {
  /** Instance folder: data/, instance.json and (by default) logs/. One process per folder. */
  dir: string;
  /** Fixed HTTP port (must be free); without it 8123, or the next free one upward. */
  port?: number;
  logDir?: string;
  log?: Log;
  startTimeoutMs?: number;
}

export interface ClickHouseHandle extends EngineHandle {
  readonly url: string;
}

interface ClickHouseRecord {
  pid?: number;
  port: number;
  startedAt?: string;
}

const DEFAULT_PORT = 8123;
const LAUNCHER = join(stackSourceDir, 'clickhouse-launch.py');

/** The ClickHouse 26.x engine that @chdb/lib-linux-x64-gnu ships (see LOCAL-STACK.md). */
function libchdbPath(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@chdb/lib-linux-x64-gnu/package.json')), 'libchdb.so');
  } catch {
    throw new Error("npm package '@chdb/lib-linux-x64-gnu' is missing: run `npm ci` (it carries libchdb.so)");
  }
}

export async function clickhouseHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
    return res.ok && (await res.text()).startsWith('Ok.');
  } catch {
    return false;
  }
}

export function inspectClickHouse(dir: string): { record?: ClickHouseRecord; running: boolean } {
  const abs = resolve(dir);
  const record = readJson<ClickHouseRecord>(instanceFile(abs));
  return { record, running: isOurProcess(record?.pid, join(abs, 'data')) };
}

/** Start (or adopt, if already running and healthy) a ClickHouse HTTP server in `dir`. */
export async function startClickHouse(opts: ClickHouseOptions): Promise<ClickHouseHandle> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? stderrLog;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const dataDir = join(dir, 'data');
  const logDir = resolve(opts.logDir ?? join(dir, 'logs'));
  const logFile = join(logDir, 'clickhouse.log');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const { record, running } = inspectClickHouse(dir);
  if (running && record?.pid) {
    const url = `http://127.0.0.1:${record.port}`;
    if (opts.port === undefined || opts.port === record.port) {
      try {
        await waitUntil(() => clickhouseHealthy(url), {
          what: 'running ClickHouse',
          timeoutMs,
          failFast: () => (isAlive(record.pid) ? undefined : 'exited'),
        });
        return handle(opts, { ...record, pid: record.pid }, logFile, true);
      } catch (err) {
        log(`ClickHouse pid ${record.pid} is not healthy (${(err as Error).message}); restarting it`);
      }
    }
    await terminate(record.pid);
  }

  let port: number;
  if (opts.port !== undefined) {
    if (!(await waitPortFree(opts.port))) throw new Error(`ClickHouse port ${opts.port} is already in use`);
    port = opts.port;
  } else {
    // The well-known port when free (as for Kafka), else the next free one upward.
    port = await pickPort(DEFAULT_PORT);
  }

  requireTool('python3', ['--version'], 'Install Python 3 (it loads libchdb.so via ctypes).');
  const started = Date.now();
  log(`starting ClickHouse on 127.0.0.1:${port}`);
  const pid = spawnDetached('python3', [LAUNCHER, libchdbPath(), dataDir, String(port)], {
    logFile,
    // clickhouse-local writes its temporary and user files relative to the cwd.
    cwd: dir,
  });
  const next = { pid, port, startedAt: new Date().toISOString() };
  writeJson(instanceFile(dir), next);

  const url = `http://127.0.0.1:${port}`;
  await waitUntil(() => clickhouseHealthy(url), {
    what: `ClickHouse on ${url}`,
    timeoutMs,
    intervalMs: 250,
    failFast: () =>
      isAlive(pid) ? undefined : `engine exited during start; last log lines:\n${tailFile(logFile)}`,
  });
  log(`ClickHouse ready on ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
  return handle(opts, next, logFile, false);
}

function handle(
  opts: ClickHouseOptions,
  record: ClickHouseRecord & { pid: number },
  logFile: string,
  reused: boolean,
): ClickHouseHandle {
  let current = record;
  return {
    get url() {
      return `http://127.0.0.1:${current.port}`;
    },
    get pid() {
      return current.pid;
    },
    get port() {
      return current.port;
    },
    dir: resolve(opts.dir),
    logFile,
    reused,
    async stop() {
      await terminate(current.pid, 20_000);
      markStopped(resolve(opts.dir));
    },
    async kill() {
      await killHard(current.pid);
    },
    async restart() {
      await terminate(current.pid, 20_000);
      const again = await startClickHouse({ ...opts, port: current.port });
      current = { ...current, pid: again.pid };
    },
  };
}
