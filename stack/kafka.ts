import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type EngineHandle, instanceFile, markStopped, readJson, writeJson } from './instance.js';
import { kafkaJvmArgs, kafkaServerProperties, randomClusterId } from './kafka-config.js';
import { ensureKafkaLibs, requireJava17 } from './kafka-libs.js';
import { type Log, stackSourceDir, stderrLog } from './paths.js';
import { pickPort, waitPortFree } from './ports.js';
import { isAlive, isOurProcess, killHard, spawnDetached, tailFile, terminate, waitUntil } from './process.js';

export interface KafkaOptions {
  /** Instance folder: data/, server.properties, instance.json and (by default) logs/. */
  dir: string;
  /** Fixed ports (must be free); without them 9092/9093, or the next free ones upward. */
  port?: number;
  controllerPort?: number;
  heapMb?: number;
  logDir?: string;
  libsDir?: string;
  log?: Log;
  startTimeoutMs?: number;
}

export interface KafkaHandle extends EngineHandle {
  readonly brokers: string[];
  readonly controllerPort: number;
}

interface KafkaRecord {
  pid?: number;
  port: number;
  controllerPort: number;
  clusterId: string;
  heapMb: number;
  startedAt?: string;
}

const DEFAULT_PORT = 9092;
const DEFAULT_CONTROLLER_PORT = 9093;
const LOG4J_CONFIG = join(stackSourceDir, 'kafka-log4j2.yaml');

/** The broker's process is recognised by its (absolute) config path on the command line. */
const propsPathOf = (dir: string): string => join(dir, 'server.properties');

/** Broker answers metadata requests as node 1: the KRaft quorum and broker are both up. */
export async function kafkaHealthy(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'agenttrail-stack-health',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Recorded state of an instance folder, and whether its pid is still our broker. */
export function inspectKafka(dir: string): { record?: KafkaRecord; running: boolean } {
  const abs = resolve(dir);
  const record = readJson<KafkaRecord>(instanceFile(abs));
  return { record, running: isOurProcess(record?.pid, propsPathOf(abs)) };
}

/**
 * Start (or adopt, if already running and healthy) a single-node Kafka broker in `dir`.
 * An already formatted log dir is never re-formatted: with static controller voters the
 * data stays valid even when the ports change.
 */
export async function startKafka(opts: KafkaOptions): Promise<KafkaHandle> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? stderrLog;
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  mkdirSync(dir, { recursive: true });
  const propsPath = propsPathOf(dir);
  const logDir = resolve(opts.logDir ?? join(dir, 'logs'));
  const logFile = join(logDir, 'kafka-server.log');
  const stdoutFile = join(logDir, 'kafka-stdout.log');
  mkdirSync(logDir, { recursive: true });

  const { record, running } = inspectKafka(dir);
  if (running && record?.pid) {
    const wantsOtherPorts =
      (opts.port !== undefined && opts.port !== record.port) ||
      (opts.controllerPort !== undefined && opts.controllerPort !== record.controllerPort);
    const brokers = [`127.0.0.1:${record.port}`];
    if (!wantsOtherPorts) {
      // It may still be starting (e.g. a concurrent `stack up`): give it the start budget.
      try {
        await waitUntil(() => kafkaHealthy(brokers), {
          what: 'running Kafka',
          timeoutMs,
          failFast: () => (isAlive(record.pid) ? undefined : 'exited'),
        });
        return handle(opts, { ...record, pid: record.pid }, logFile, true);
      } catch (err) {
        log(`Kafka pid ${record.pid} is not healthy (${(err as Error).message}); restarting it`);
      }
    }
    await terminate(record.pid);
  }

  // Keep the controller's usual port out of the broker's way when falling back upward.
  const port = await choosePort('Kafka', opts.port, DEFAULT_PORT, [
    opts.controllerPort ?? DEFAULT_CONTROLLER_PORT,
  ]);
  const controllerPort = await choosePort('Kafka controller', opts.controllerPort, DEFAULT_CONTROLLER_PORT, [
    port,
  ]);
  const heapMb = opts.heapMb ?? record?.heapMb ?? 512;

  requireJava17();
  const libsDir = await ensureKafkaLibs({ libsDir: opts.libsDir, log });
  const jvm = kafkaJvmArgs({ heapMb, libsDir, logDir, log4jConfig: LOG4J_CONFIG });

  const dataDir = join(dir, 'data');
  writeFileSync(propsPath, kafkaServerProperties({ port, controllerPort, dataDir }));
  const clusterId = record?.clusterId ?? randomClusterId();
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    log(`formatting Kafka log dir ${dataDir}`);
    const res = spawnSync(
      'java',
      [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsPath],
      {
        encoding: 'utf8',
      },
    );
    if (res.status !== 0) throw new Error(`kafka-storage format failed:\n${res.stdout}${res.stderr}`);
  }

  const started = Date.now();
  log(`starting Kafka on 127.0.0.1:${port} (controller ${controllerPort}, heap ${heapMb} MiB)`);
  const pid = spawnDetached('java', [...jvm, 'kafka.Kafka', propsPath], { logFile: stdoutFile, cwd: dir });
  const next: KafkaRecord & { pid: number } = {
    pid,
    port,
    controllerPort,
    clusterId,
    heapMb,
    startedAt: new Date().toISOString(),
  };
  writeJson(instanceFile(dir), next);

  await waitUntil(() => kafkaHealthy([`127.0.0.1:${port}`]), {
    what: `Kafka on 127.0.0.1:${port}`,
    timeoutMs,
    intervalMs: 500,
    failFast: () =>
      isAlive(pid)
        ? undefined
        : `broker exited during start; last log lines:\n${tailFile(logFile)}\n${tailFile(stdoutFile)}`,
  });
  log(`Kafka ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid})`);
  return handle(opts, next, logFile, false);
}

async function choosePort(
  what: string,
  requested: number | undefined,
  preferred: number,
  avoid: number[],
): Promise<number> {
  if (requested !== undefined) {
    if (!(await waitPortFree(requested))) throw new Error(`${what} port ${requested} is already in use`);
    return requested;
  }
  // Back to the well-known port whenever it is free: what people and configs expect. The
  // data does not depend on the ports (static voters), so moving is harmless.
  return pickPort(preferred, avoid);
}

function handle(
  opts: KafkaOptions,
  record: KafkaRecord & { pid: number },
  logFile: string,
  reused: boolean,
): KafkaHandle {
  let current = record;
  const self: KafkaHandle = {
    get brokers() {
      return [`127.0.0.1:${current.port}`];
    },
    get pid() {
      return current.pid;
    },
    get port() {
      return current.port;
    },
    get controllerPort() {
      return current.controllerPort;
    },
    dir: resolve(opts.dir),
    logFile,
    reused,
    async stop() {
      await terminate(current.pid);
      markStopped(resolve(opts.dir));
    },
    async kill() {
      await killHard(current.pid);
    },
    async restart() {
      await terminate(current.pid);
      const again = await startKafka({ ...opts, port: current.port, controllerPort: current.controllerPort });
      current = { ...current, pid: again.pid };
    },
  };
  return self;
}
