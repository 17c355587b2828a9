import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { adoptOrStop, awaitStarted, launchOnFreePorts } from './engine.js';
import { type EngineHandle, instanceFile, markStopped, readJson, writeJson } from './instance.js';
import { kafkaJvmArgs, kafkaServerProperties, randomClusterId } from './kafka-config.js';
import { ensureKafkaLibs, requireJava17 } from './kafka-libs.js';
import { type Log, stackSourceDir, stderrLog } from './paths.js';
import { choosePort } from './ports.js';
import { isOurProcess, killHard, spawnDetached, terminate } from './process.js';

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

/**
 * The broker answers metadata requests and has a controller: the KRaft quorum and the broker
 * are both up. With `expect.clusterId`, it must also be OUR broker: every stack's broker is
 * node 1 on 127.0.0.1, so only the cluster id its log dir was formatted with tells one stack's
 * broker from another's that happens to answer on the port.
 */
export async function kafkaHealthy(brokers: string[], expect: { clusterId?: string } = {}): Promise<boolean> {
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
    if (expect.clusterId !== undefined && cluster.clusterId !== expect.clusterId) return false;
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The cluster id `kafka-storage format` wrote into the log dir, if it is formatted. */
export function formattedClusterId(dataDir: string): string | undefined {
  try {
    return /^cluster\.id=(.+)$/m.exec(readFileSync(join(dataDir, 'meta.properties'), 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
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

  const dataDir = join(dir, 'data');
  const { record, running } = inspectKafka(dir);
  if (running && record?.pid) {
    // Ours only if it answers with the cluster id of our log dir (unformatted: it cannot be).
    const clusterId = formattedClusterId(dataDir);
    const healthy = async () =>
      clusterId !== undefined && kafkaHealthy([`127.0.0.1:${record.port}`], { clusterId });
    const reuse =
      (opts.port === undefined || opts.port === record.port) &&
      (opts.controllerPort === undefined || opts.controllerPort === record.controllerPort);
    if (await adoptOrStop({ pid: record.pid, what: 'Kafka', healthy, timeoutMs, log }, reuse)) {
      return handle(opts, { ...record, pid: record.pid }, logFile, true);
    }
  }

  const heapMb = opts.heapMb ?? record?.heapMb ?? 512;
  requireJava17();
  const libsDir = await ensureKafkaLibs({ libsDir: opts.libsDir, log });
  const jvm = kafkaJvmArgs({ heapMb, libsDir, logDir, log4jConfig: LOG4J_CONFIG });

  // Formatting needs a config but, with static voters, bakes no port into the log dir: format
  // first (outside the port lock, it takes a JVM start), then choose ports and write the real one.
  if (formattedClusterId(dataDir) === undefined) {
    log(`formatting Kafka log dir ${dataDir}`);
    writeFileSync(
      propsPath,
      kafkaServerProperties({ port: DEFAULT_PORT, controllerPort: DEFAULT_CONTROLLER_PORT, dataDir }),
    );
    const id = record?.clusterId ?? randomClusterId();
    const res = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', propsPath], {
      encoding: 'utf8',
    });
    if (res.status !== 0) throw new Error(`kafka-storage format failed:\n${res.stdout}${res.stderr}`);
  }
  const clusterId = formattedClusterId(dataDir);
  if (!clusterId)
    throw new Error(`${dataDir}/meta.properties has no cluster.id: delete ${dataDir} to start afresh`);

  let next: KafkaRecord & { pid: number } = { pid: 0, port: 0, controllerPort: 0, clusterId, heapMb };
  const { pid, spawnedAt } = await launchOnFreePorts({
    what: 'Kafka',
    owner: `starting Kafka in ${dir}`,
    fixed: opts.port !== undefined || opts.controllerPort !== undefined,
    async choose(avoid) {
      // Keep the controller's usual port out of the broker's way when falling back upward.
      const port = await choosePort({
        what: 'Kafka',
        requested: opts.port,
        recorded: record?.port,
        preferred: DEFAULT_PORT,
        avoid: [...avoid, opts.controllerPort ?? record?.controllerPort ?? DEFAULT_CONTROLLER_PORT],
        log,
      });
      const controllerPort = await choosePort({
        what: 'Kafka controller',
        requested: opts.controllerPort,
        recorded: record?.controllerPort,
        preferred: DEFAULT_CONTROLLER_PORT,
        avoid: [...avoid, port],
        log,
      });
      return [port, controllerPort];
    },
    spawn([port, controllerPort]) {
      writeFileSync(
        propsPath,
        kafkaServerProperties({ port: port!, controllerPort: controllerPort!, dataDir }),
      );
      log(`starting Kafka on 127.0.0.1:${port} (controller ${controllerPort}, heap ${heapMb} MiB)`);
      const pid = spawnDetached('java', [...jvm, 'kafka.Kafka', propsPath], {
        logFile: stdoutFile,
        cwd: dir,
      });
      next = {
        ...next,
        pid,
        port: port!,
        controllerPort: controllerPort!,
        startedAt: new Date().toISOString(),
      };
      writeJson(instanceFile(dir), next);
      return pid;
    },
    timeoutMs,
    logFiles: [logFile, stdoutFile],
    log,
  });

  await awaitStarted({
    pid,
    spawnedAt,
    what: 'Kafka',
    endpoint: `127.0.0.1:${next.port}`,
    healthy: () => kafkaHealthy([`127.0.0.1:${next.port}`], { clusterId }),
    timeoutMs,
    intervalMs: 500,
    logFiles: [logFile, stdoutFile],
    log,
  });
  return handle(opts, next, logFile, false);
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
