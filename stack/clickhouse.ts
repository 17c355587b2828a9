import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { adoptOrStop, awaitStarted } from './engine.js';
import { type EngineHandle, instanceFile, markStopped, readJson, writeJson } from './instance.js';
import { type Log, stackSourceDir, stderrLog } from './paths.js';
import { choosePort } from './ports.js';
import { requireTool } from './prereqs.js';
import { isOurProcess, killHard, spawnDetached, terminate } from './process.js';

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
  const url = (port: number) => `http://127.0.0.1:${port}`;
  if (running && record?.pid) {
    const healthy = () => clickhouseHealthy(url(record.port));
    const reuse = opts.port === undefined || opts.port === record.port;
    if (await adoptOrStop({ pid: record.pid, what: 'ClickHouse', healthy, timeoutMs, log }, reuse)) {
      return handle(opts, { ...record, pid: record.pid }, logFile, true);
    }
  }

  const port = await choosePort('ClickHouse', opts.port, DEFAULT_PORT);

  requireTool('python3', ['--version'], 'Install Python 3 (it loads libchdb.so via ctypes).');
  log(`starting ClickHouse on 127.0.0.1:${port}`);
  const pid = spawnDetached('python3', [LAUNCHER, libchdbPath(), dataDir, String(port)], {
    logFile,
    // clickhouse-local writes its temporary and user files relative to the cwd.
    cwd: dir,
  });
  const next = { pid, port, startedAt: new Date().toISOString() };
  writeJson(instanceFile(dir), next);

  await awaitStarted({
    pid,
    what: 'ClickHouse',
    endpoint: url(port),
    healthy: () => clickhouseHealthy(url(port)),
    timeoutMs,
    intervalMs: 250,
    logFiles: [logFile],
    log,
  });
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
