import { join, resolve } from 'node:path';
import { clickhouseHealthy, inspectClickHouse, startClickHouse } from './clickhouse.js';
import { markStopped, readJson, writeJson } from './instance.js';
import { formattedClusterId, inspectKafka, kafkaHealthy, startKafka } from './kafka.js';
import { withStackLock } from './lock.js';
import { defaultStateDir, type Log, stderrLog } from './paths.js';
import { terminate } from './process.js';

export type StackPart = 'kafka' | 'clickhouse';

export interface StackEndpoints {
  kafka: { brokers: string[] };
  clickhouse: { url: string };
  stateDir: string;
  /** Parts this call started (as opposed to reused or external ones). */
  started: StackPart[];
  /** True when KAFKA_BROKERS and CLICKHOUSE_URL point at an existing cluster. */
  external: boolean;
}

export interface StackOptions {
  stateDir?: string;
  log?: Log;
}

/** What `<stateDir>/stack.json` records: enough for `down` to stop exactly what `up` started. */
interface StackRecord {
  kafka?: { pid: number; brokers: string[]; dir: string; logFile: string };
  clickhouse?: { pid: number; url: string; dir: string; logFile: string };
  updatedAt: string;
}

const layout = (stateDir: string) => ({
  record: join(stateDir, 'stack.json'),
  kafkaDir: join(stateDir, 'stack', 'kafka'),
  clickhouseDir: join(stateDir, 'stack', 'clickhouse'),
  logDir: join(stateDir, 'stack', 'logs'),
});

function externalFromEnv(): { brokers?: string[]; url?: string } {
  const brokers = process.env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const url = process.env.CLICKHOUSE_URL?.trim().replace(/\/+$/, '');
  return { brokers: brokers?.length ? brokers : undefined, url: url || undefined };
}

/**
 * Bring up Kafka and ClickHouse, or reuse the ones already running for this state dir
 * (recorded pid alive, ours, healthy). Dead or unhealthy parts are restarted with their
 * data on the ports they had, unless those are taken now; ports are chosen under a lock shared
 * by every state dir (port-lock.ts). With KAFKA_BROKERS / CLICKHOUSE_URL set,
 * the given endpoint is used and nothing is started for it.
 */
export async function stackUp(opts: StackOptions = {}): Promise<StackEndpoints> {
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const log = opts.log ?? stderrLog;
  const ext = externalFromEnv();
  if (ext.brokers && ext.url) {
    log(`using external Kafka ${ext.brokers.join(',')} and ClickHouse ${ext.url}`);
    return {
      kafka: { brokers: ext.brokers },
      clickhouse: { url: ext.url },
      stateDir,
      started: [],
      external: true,
    };
  }

  return withStackLock(stateDir, async () => {
    const paths = layout(stateDir);
    const record: StackRecord = readJson<StackRecord>(paths.record) ?? { updatedAt: '' };
    const started: StackPart[] = [];

    // Start both at once: the JVM and the ClickHouse engine each take a few seconds.
    const [kafka, clickhouse] = await Promise.all([
      ext.brokers ? undefined : startKafka({ dir: paths.kafkaDir, logDir: paths.logDir, heapMb: 512, log }),
      ext.url ? undefined : startClickHouse({ dir: paths.clickhouseDir, logDir: paths.logDir, log }),
    ]);
    if (kafka) {
      if (!kafka.reused) started.push('kafka');
      record.kafka = { pid: kafka.pid, brokers: kafka.brokers, dir: kafka.dir, logFile: kafka.logFile };
    }
    if (clickhouse) {
      if (!clickhouse.reused) started.push('clickhouse');
      record.clickhouse = {
        pid: clickhouse.pid,
        url: clickhouse.url,
        dir: clickhouse.dir,
        logFile: clickhouse.logFile,
      };
    }
    record.updatedAt = new Date().toISOString();
    writeJson(paths.record, record);

    return {
      kafka: { brokers: ext.brokers ?? kafka!.brokers },
      clickhouse: { url: ext.url ?? clickhouse!.url },
      stateDir,
      started,
      external: false,
    };
  });
}

/** Stop what the stack started (recorded pids that are still ours). `only` limits the parts. */
export async function stackDown(
  opts: StackOptions & { only?: StackPart[] } = {},
): Promise<{ stopped: StackPart[] }> {
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const log = opts.log ?? stderrLog;
  const parts = opts.only ?? ['kafka', 'clickhouse'];
  return withStackLock(stateDir, async () => {
    const paths = layout(stateDir);
    const stopped: StackPart[] = [];
    const jobs: Promise<void>[] = [];
    if (parts.includes('kafka')) {
      const { record, running } = inspectKafka(paths.kafkaDir);
      if (running && record?.pid) {
        log(`stopping Kafka (pid ${record.pid})`);
        jobs.push(
          terminate(record.pid, 30_000).then(() => {
            markStopped(paths.kafkaDir);
            stopped.push('kafka');
          }),
        );
      }
    }
    if (parts.includes('clickhouse')) {
      const { record, running } = inspectClickHouse(paths.clickhouseDir);
      if (running && record?.pid) {
        log(`stopping ClickHouse (pid ${record.pid})`);
        jobs.push(
          terminate(record.pid, 20_000).then(() => {
            markStopped(paths.clickhouseDir);
            stopped.push('clickhouse');
          }),
        );
      }
    }
    await Promise.all(jobs);
    return { stopped };
  });
}

/**
 * `dead`: a pid is recorded but that process is gone (crashed or killed) - `up` restarts it.
 * `stopped`: cleanly stopped or never started.
 */
export type PartState = 'running' | 'unhealthy' | 'dead' | 'stopped' | 'external';

export interface StackStatus {
  stateDir: string;
  external: boolean;
  kafka: { state: PartState; brokers?: string[]; pid?: number; logFile?: string; dataDir?: string };
  clickhouse: { state: PartState; url?: string; pid?: number; logFile?: string; dataDir?: string };
}

/** Read-only view: recorded pids checked against /proc, endpoints checked for health. */
export async function stackStatus(opts: StackOptions = {}): Promise<StackStatus> {
  const stateDir = resolve(opts.stateDir ?? defaultStateDir());
  const paths = layout(stateDir);
  const ext = externalFromEnv();
  const kafkaLog = join(paths.logDir, 'kafka-server.log');
  const chLog = join(paths.logDir, 'clickhouse.log');

  const kafkaStatus = async (): Promise<StackStatus['kafka']> => {
    if (ext.brokers) {
      return { state: (await kafkaHealthy(ext.brokers)) ? 'external' : 'unhealthy', brokers: ext.brokers };
    }
    const { record, running } = inspectKafka(paths.kafkaDir);
    const base = { pid: record?.pid, logFile: kafkaLog, dataDir: join(paths.kafkaDir, 'data') };
    if (!record?.pid) return { state: 'stopped', ...base };
    if (!running) return { state: 'dead', ...base };
    const brokers = [`127.0.0.1:${record.port}`];
    // 'running' only when the broker answering there is ours (its cluster id), not another's.
    const clusterId = formattedClusterId(base.dataDir);
    const ours = clusterId !== undefined && (await kafkaHealthy(brokers, { clusterId }));
    return { state: ours ? 'running' : 'unhealthy', brokers, ...base };
  };
  const clickhouseStatus = async (): Promise<StackStatus['clickhouse']> => {
    if (ext.url) {
      return { state: (await clickhouseHealthy(ext.url)) ? 'external' : 'unhealthy', url: ext.url };
    }
    const { record, running } = inspectClickHouse(paths.clickhouseDir);
    const base = { pid: record?.pid, logFile: chLog, dataDir: join(paths.clickhouseDir, 'data') };
    if (!record?.pid) return { state: 'stopped', ...base };
    if (!running) return { state: 'dead', ...base };
    const url = `http://127.0.0.1:${record.port}`;
    const ours = await clickhouseHealthy(url, { dataDir: base.dataDir });
    return { state: ours ? 'running' : 'unhealthy', url, ...base };
  };

  const [kafka, clickhouse] = await Promise.all([kafkaStatus(), clickhouseStatus()]);
  return { stateDir, external: Boolean(ext.brokers && ext.url), kafka, clickhouse };
}
