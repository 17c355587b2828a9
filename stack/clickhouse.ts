import { mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { adoptOrStop, awaitStarted, launchOnFreePorts } from './engine.js';
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

/**
 * The engine answers /ping. With `expect.dataDir`, it must also be OUR engine: the data path
 * it was launched with (`system.disks`) is that folder, so another stack's ClickHouse that
 * happens to answer on the port is not taken for ours.
 */
export async function clickhouseHealthy(url: string, expect: { dataDir?: string } = {}): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok || !(await res.text()).startsWith('Ok.')) return false;
    if (expect.dataDir === undefined) return true;
    const path = await clickhouseDataPath(url);
    return path !== undefined && sameDir(path, expect.dataDir);
  } catch {
    return false;
  }
}

async function clickhouseDataPath(url: string): Promise<string | undefined> {
  const res = await fetch(url, {
    method: 'POST',
    body: "SELECT path FROM system.disks WHERE name = 'default' FORMAT TSVRaw",
    signal: AbortSignal.timeout(2000),
  });
  return res.ok ? (await res.text()).trim() : undefined;
}

/** Equal as folders: trailing slash and symlinks (a /tmp that is a link) do not matter. */
function sameDir(a: string, b: string): boolean {
  const canon = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return canon(a) === canon(b);
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
    const healthy = () => clickhouseHealthy(url(record.port), { dataDir });
    const reuse = opts.port === undefined || opts.port === record.port;
    if (await adoptOrStop({ pid: record.pid, what: 'ClickHouse', healthy, timeoutMs, log }, reuse)) {
      return handle(opts, { ...record, pid: record.pid }, logFile, true);
    }
  }

  requireTool('python3', ['--version'], 'Install Python 3 (it loads libchdb.so via ctypes).');
  const lib = libchdbPath();
  let next: ClickHouseRecord & { pid: number } = { pid: 0, port: 0 };
  const { pid, spawnedAt } = await launchOnFreePorts({
    what: 'ClickHouse',
    owner: `starting ClickHouse in ${dir}`,
    fixed: opts.port !== undefined,
    choose: async (avoid) => [
      await choosePort({
        what: 'ClickHouse',
        requested: opts.port,
        recorded: record?.port,
        preferred: DEFAULT_PORT,
        avoid,
        log,
      }),
    ],
    spawn([port]) {
      log(`starting ClickHouse on 127.0.0.1:${port}`);
      const pid = spawnDetached('python3', [LAUNCHER, lib, dataDir, String(port)], {
        logFile,
        // clickhouse-local writes its temporary and user files relative to the cwd.
        cwd: dir,
      });
      next = { pid, port: port!, startedAt: new Date().toISOString() };
      writeJson(instanceFile(dir), next);
      return pid;
    },
    timeoutMs,
    logFiles: [logFile],
    log,
  });

  await awaitStarted({
    pid,
    spawnedAt,
    what: 'ClickHouse',
    endpoint: url(next.port),
    healthy: () => clickhouseHealthy(url(next.port), { dataDir }),
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
