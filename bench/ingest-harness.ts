import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { type IHeaders, Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import { ensureTopics } from '../services/platform/kafka/topics.js';
import { gatewayMessage, syntheticMessage } from './ingest-events.js';

// Drives the real ingester for the integration tests and the benchmark: produce synthetic
// events, run `services/ingester/main.ts` as a child process, count what ClickHouse holds.

const ROOT = new URL('..', import.meta.url).pathname;

export function kafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'agenttrail-ingest-harness', brokers, logLevel: logLevel.ERROR });
}

/** The topics a run needs (platform/kafka/topics.ts: only the missing ones are created). */
export function createTopics(brokers: string[], topics: string[], partitions: number): Promise<void> {
  return ensureTopics(kafka(brokers), topics, partitions);
}

export interface ProduceOptions {
  brokers: string[];
  topic: string;
  run: string;
  from: number;
  to: number;
  /** Extra messages to mix in after event `index` (poison, for the DLQ test). */
  extra?: (index: number) => Message[];
  chunk?: number;
  /** Pace the stream at about this many events/s (default: as fast as Kafka takes them). */
  ratePerS?: number;
  /** Produce events as the gateway does (validated, marked with its header), not raw. */
  asGateway?: boolean;
}

/** Produce events [from, to) of run `run`, keyed by task id, acks=all. */
export async function produceEvents(opts: ProduceOptions): Promise<void> {
  const producer = kafka(opts.brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // Small enough that one partition's share stays under the broker's 1 MiB batch limit.
  const chunk = opts.chunk ?? 2_000;
  const started = Date.now();
  try {
    for (let i = opts.from; i < opts.to; i += chunk) {
      const messages: Message[] = [];
      for (let j = i; j < Math.min(opts.to, i + chunk); j++) {
        messages.push(opts.asGateway ? gatewayMessage(opts.run, j) : syntheticMessage(opts.run, j));
        if (opts.extra) messages.push(...opts.extra(j));
      }
      await producer.send({ topic: opts.topic, messages, acks: -1 });
      if (opts.ratePerS) {
        const due = started + ((i + chunk - opts.from) / opts.ratePerS) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    }
  } finally {
    await producer.disconnect();
  }
}

export interface IngesterProcess {
  child: ChildProcess;
  logFile: string;
  /** Exit code/signal once exited; undefined while running. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  waitExit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node --import tsx services/ingester/main.ts` with its configuration in the environment. */
export function spawnIngester(opts: {
  brokers: string[];
  clickhouseUrl: string;
  database: string;
  topic: string;
  dlqTopic: string;
  logDir: string;
  name: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. a larger young generation (bench). */
  nodeArgs?: string[];
}): IngesterProcess {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx', 'services/ingester/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      KAFKA_BROKERS: opts.brokers.join(','),
      CLICKHOUSE_URL: opts.clickhouseUrl,
      CLICKHOUSE_DATABASE: opts.database,
      KAFKA_TOPIC_EVENTS: opts.topic,
      KAFKA_TOPIC_DLQ: opts.dlqTopic,
      INGESTER_METRICS_PORT: '0',
      // Its own group per database: members of one group rebalance together even when they
      // read different topics, so unrelated runs on a shared broker would disturb each other.
      INGESTER_CONSUMER_GROUP: `${opts.database}.ingester`,
      INSTANCE_ID: opts.name,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    child,
    logFile,
    exited: () => exit,
    waitExit: (timeoutMs = 30_000) =>
      Promise.race([
        done,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`ingester did not exit in ${timeoutMs} ms`)), timeoutMs).unref(),
        ),
      ]),
  };
}

export interface StoredCounts {
  /** Rows as stored, duplicates included (what a careless reader would see). */
  raw: number;
  /** Rows read with FINAL (what the queries we provide see). */
  final: number;
  /** Distinct event ids. */
  distinct: number;
}

export async function storedCounts(ch: ClickHouseClient, database: string): Promise<StoredCounts> {
  const rs = await ch.query({
    query: `SELECT
        (SELECT count() FROM {db:Identifier}.events) AS raw,
        (SELECT count() FROM {db:Identifier}.events FINAL) AS final,
        (SELECT uniqExact(event_id) FROM {db:Identifier}.events) AS distinct`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ raw: string; final: string; distinct: string }>();
  return { raw: Number(row?.raw), final: Number(row?.final), distinct: Number(row?.distinct) };
}

async function eventsTableExists(ch: ClickHouseClient, database: string): Promise<boolean> {
  const rs = await ch.query({
    query: "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'events'",
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n) > 0;
}

/** Rows as stored (a cheap count from part metadata); 0 while the table does not exist. */
export async function rawCount(ch: ClickHouseClient, database: string): Promise<number> {
  // Check for the table first: a failing query would be logged by the client.
  if (!(await eventsTableExists(ch, database))) return 0;
  const rs = await ch.query({
    query: 'SELECT count() AS n FROM {db:Identifier}.events',
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n);
}

/**
 * Poll until at least `rows` rows are stored, then until `distinct` reaches it too. The cheap
 * count is polled often; FINAL and uniqExact (heavy on 2 cores) only once the rows are there.
 * Tolerant of ClickHouse being away meanwhile.
 */
export async function waitForRows(
  ch: ClickHouseClient,
  database: string,
  rows: number,
  timeoutMs: number,
  opts: { distinct?: boolean; intervalMs?: number } = {},
): Promise<StoredCounts> {
  const deadline = Date.now() + timeoutMs;
  let last: StoredCounts | undefined;
  let raw = 0;
  for (;;) {
    try {
      raw = await rawCount(ch, database);
      if (raw >= rows) {
        if (opts.distinct === false) return { raw, final: Number.NaN, distinct: Number.NaN };
        last = await storedCounts(ch, database);
        if (last.distinct >= rows) return last;
      }
    } catch {
      // the engine is restarting
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms; raw ${raw}, last counts ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, raw >= rows ? 1_000 : (opts.intervalMs ?? 200)));
  }
}

export interface DeadLetterSeen {
  value: string | null;
  headers: Record<string, string>;
}

/** Read `expected` messages from a DLQ topic (from the beginning), with headers as strings. */
export async function readDeadLetters(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<DeadLetterSeen[]> {
  const consumer = kafka(brokers).consumer({ groupId: `${topic}-reader` });
  const seen: DeadLetterSeen[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ value: message.value?.toString('utf8') ?? null, headers: headerStrings(message.headers) });
    },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (seen.length < expected) {
      if (Date.now() > deadline) throw new Error(`saw ${seen.length} of ${expected} dead letters`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A little longer, so a surplus (a letter sent twice) would show.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

/** Offsets the group committed on `topic`, summed over partitions. */
export async function committedTotal(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (committed?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Messages on `topic` the group has not committed yet, summed over partitions. */
export async function groupLag(brokers: string[], groupId: string, topic: string): Promise<number> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    let lag = 0;
    for (const e of ends) {
      const c = committed?.partitions.find((p) => p.partition === e.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
      lag += Number(e.offset) - at;
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
