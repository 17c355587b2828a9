import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { type Message, Partitioners } from 'kafkajs';
import {
  ATTACK_SCENARIOS,
  BENIGN_SCENARIOS,
  generateScenario,
  type Scenario,
} from '../../scenarios/index.js';
import type { AgentEvent, Alert } from '../../schemas/index.js';
import { createDetector } from '../../services/detector/engine.js';
import { loadDefaultRules } from '../../services/detector/rules/default-rules.js';
import { kafkaClient, testLogDir } from './stack.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const DETECTOR_LOG_DIR = testLogDir('detector');

// The real detector as a child process (`node --import tsx services/detector/main.ts`), so tests
// can kill -9 it, plus helpers to feed it scenario events and read what it published.

export interface DetectorProcess {
  child: ChildProcess;
  logFile: string;
  /** Lines the process wrote so far (also in logFile). */
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnDetector(
  env: Record<string, string>,
  name: string,
  readyTimeoutMs = 60_000,
): Promise<DetectorProcess> {
  mkdirSync(DETECTOR_LOG_DIR, { recursive: true });
  const logFile = join(DETECTOR_LOG_DIR, `${name}.log`);
  const file = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/detector/main.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DETECTOR_METRICS_PORT: '0',
      INSTANCE_ID: name,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let ready = false;
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output.push(text);
    file.write(text);
    if (text.includes('"detector started"')) ready = true;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const deadline = Date.now() + readyTimeoutMs;
  while (!ready) {
    if (exitCode !== undefined) throw new Error(`detector exited with ${exitCode}:\n${output.join('')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`detector not ready in ${readyTimeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    logFile,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Scenario copies whose events all belong to one task, each copy under its own tenant. Kafka
 * keeps order per partition only (key = task id): a scenario spanning tasks (delegation, a
 * credential issued in another task) or sharing per-identity baselines can interleave
 * differently on every read, and then the engine's cross-task checks give different answers
 * (see the report in the detector README). Those are left out of order-exact comparisons.
 */
export function singleTaskScenarios(copies: number, prefix: string): Scenario[] {
  const names = [...ATTACK_SCENARIOS, ...BENIGN_SCENARIOS].filter((n) => {
    const s = generateScenario(n, { id: 'probe' });
    return new Set(s.events.map((e) => e.task_id)).size === 1;
  });
  const start = Date.parse('2026-06-01T09:00:00.000Z');
  const out: Scenario[] = [];
  for (let i = 0; i < copies; i++) {
    const name = names[i % names.length]!;
    out.push(
      generateScenario(name, { id: `${prefix}${i}`, tenant: `${prefix}-t${i}`, startMs: start + i * 7 }),
    );
  }
  return out;
}

/** What the detector should publish: the engine in-process over the same events, in order. */
export function referenceAlerts(events: readonly AgentEvent[]): Alert[] {
  const d = createDetector({ rules: loadDefaultRules() });
  const out: Alert[] = [];
  for (const e of events) out.push(...d.process(e));
  out.push(...d.flush());
  return out;
}

/** Produce keyed by task id (as the gateway does), acks=all, in chunks under the batch limit. */
export async function produceEvents(brokers: string[], topic: string, events: readonly AgentEvent[]) {
  const producer = kafkaClient(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1_000) {
      const messages: Message[] = events
        .slice(i, i + 1_000)
        .map((e) => ({ key: e.task_id, value: JSON.stringify(e) }));
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every alert on the topic, read from the start with a throwaway group, until `done` or timeout. */
export async function readAlertTopic(
  brokers: string[],
  topic: string,
  done: (alerts: Alert[]) => boolean,
  timeoutMs = 30_000,
): Promise<Alert[]> {
  const consumer = kafkaClient(brokers).consumer({ groupId: `reader-${topic}-${Date.now()}` });
  const alerts: Alert[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        alerts.push(JSON.parse(message.value?.toString('utf8') ?? '{}') as Alert);
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (!done(alerts) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return alerts;
  } finally {
    await consumer.disconnect();
  }
}

export interface StoredAlertCounts {
  /** Rows as stored, duplicates included. */
  raw: number;
  /** Rows read with FINAL. */
  final: number;
  distinct: number;
}

export async function storedAlertCounts(ch: ClickHouseClient, database: string): Promise<StoredAlertCounts> {
  const rs = await ch.query({
    query: `SELECT
        (SELECT count() FROM {db:Identifier}.alerts) AS raw,
        (SELECT count() FROM {db:Identifier}.alerts FINAL) AS final,
        (SELECT uniqExact(alert_id) FROM {db:Identifier}.alerts FINAL) AS distinct`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ raw: string; final: string; distinct: string }>();
  return { raw: Number(row?.raw), final: Number(row?.final), distinct: Number(row?.distinct) };
}

export async function storedAlertIds(ch: ClickHouseClient, database: string): Promise<string[]> {
  const rs = await ch.query({
    query: 'SELECT alert_id FROM {db:Identifier}.alerts FINAL ORDER BY alert_id',
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ alert_id: string }>()).map((r) => r.alert_id);
}

/** Environment for a detector child on one test's topics and database. */
export function detectorEnv(o: {
  brokers: string[];
  clickhouseUrl: string;
  database: string;
  eventsTopic: string;
  alertsTopic: string;
  stateDir: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    KAFKA_BROKERS: o.brokers.join(','),
    CLICKHOUSE_URL: o.clickhouseUrl,
    CLICKHOUSE_DATABASE: o.database,
    KAFKA_TOPIC_EVENTS: o.eventsTopic,
    KAFKA_TOPIC_ALERTS: o.alertsTopic,
    DETECTOR_STATE_DIR: o.stateDir,
    DETECTOR_CONSUMER_GROUP: `agenttrail.detector.${o.database}`,
    LOG_LEVEL: 'info',
    ...o.extra,
  };
}
