import type { ClickHouseClient } from '@clickhouse/client';
import type { Consumer, Producer } from 'kafkajs';
import pino from 'pino';
import { ingestHandler } from '../../services/ingester/loop.js';
import { createEventWriter, type EventWriter } from '../../services/ingester/writer.js';
import { createClickHouse } from '../../services/platform/clickhouse/client.js';
import { createKafka } from '../../services/platform/kafka/client.js';
import { createProducer, stageProducerOf } from '../../services/platform/kafka/producer.js';
import { createStageRunner } from '../../services/platform/kafka/runner.js';
import { ensureTopics } from '../../services/platform/kafka/topics.js';
import type { Logger } from '../../services/platform/logger.js';
import { createStageMetrics } from '../../services/platform/metrics.js';
import { kafkaClient, testEndpoints, uniqueName } from '../helpers/stack.js';
import { controlEvent } from './materialize.js';

// The ingester's row path as main.ts wires it (loop + writer on the real ClickHouse, DLQ on the
// real broker), in-process on topics of its own, plus a reader of its dead-letter topic.
//
// The writer is wrapped only to observe it (retries, completed inserts) and so that a pipeline
// found wedged can be torn down: the loop has no abort of its own, and a shrinking run needs
// a fresh pipeline, not one still retrying the previous counterexample.

export interface Letter {
  reason: string;
  code: string;
  eventId: string | undefined;
}

export interface Pipeline {
  topic: string;
  dlqTopic: string;
  /** The logger the ingester writes to (the gateway may share it). */
  log: Logger;
  /** Dead letters by source, `partition/offset` of the events topic. */
  letters: Map<string, Letter>;
  /** onFatal calls (a crash of the loop in main.ts) while running. */
  fatal: unknown[];
  /** Errors the writer retried (ClickHouse is up: each one is worth reading). */
  retried: string[];
  /** The last warn-or-worse log lines, for failure reports. */
  logTail(): string[];
  healthy(): boolean;
  /** Resolves on the next completed insert or dead letter, or after `ms`. */
  activity(ms: number): Promise<void>;
  close(): Promise<void>;
}

export const FUZZ_LOOP_SETTINGS = {
  // Small flush interval: each run waits for its events to be stored.
  maxRows: 5_000,
  maxBytes: 16 * 1024 * 1024,
  intervalMs: 20,
  retry: { initialMs: 100, maxMs: 1_000 },
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  fetchMaxBytes: 16 * 1024 * 1024,
  fetchMaxBytesPerPartition: 8 * 1024 * 1024,
};

/** A logger keeping its last warn-or-worse lines in memory. */
export function tailLogger(): { log: Logger; tail: () => string[] } {
  const lines: string[] = [];
  const log = pino(
    { level: 'warn' },
    {
      write(line: string) {
        lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line.trimEnd());
        if (lines.length > 50) lines.shift();
      },
    },
  );
  return { log, tail: () => [...lines] };
}

export async function startPipeline(database: string, prefix: string): Promise<Pipeline> {
  const { brokers, clickhouseUrl } = testEndpoints();
  const name = uniqueName(prefix);
  const topic = `${name}.events`;
  const dlqTopic = `${name}.dlq`;
  // One partition each: a control event is after the bad message in the same log.
  await ensureTopics(kafkaClient(brokers), [topic, dlqTopic], 1);

  const { log, tail } = tailLogger();
  const fatal: unknown[] = [];
  const retried: string[] = [];
  const letters = new Map<string, Letter>();
  let waiters: Array<() => void> = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  let closing = false;
  const teardown = new AbortController();

  const ch: ClickHouseClient = createClickHouse(
    {
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_PASSWORD: '',
    },
    'ingester',
    undefined,
    // The writer logs each refused or retried insert; the client's own lines would repeat it.
    log.child({}, { level: 'fatal' }),
  );
  const real = createEventWriter(ch, { retry: FUZZ_LOOP_SETTINGS.retry, log, waitSliceMs: 100 });
  const writer: EventWriter = {
    async insert(lines, token, control) {
      const rejected = await real.insert(lines, token, {
        ...control,
        signal: AbortSignal.any([control.signal, teardown.signal]),
        onRetry: (err, attempt) => {
          retried.push(String((err as Error)?.message ?? err).slice(0, 500));
          control.onRetry?.(err, attempt);
        },
      });
      notify();
      return rejected;
    },
  };

  const kafka = createKafka({ KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'fuzz' }, log, 'ingester');
  const producer = createProducer(kafka);
  await producer.connect();
  const { maxRows, maxBytes, intervalMs, retry, ...runnerSettings } = FUZZ_LOOP_SETTINGS;
  const loop = createStageRunner({
    kafka,
    log,
    settings: {
      ...runnerSettings,
      maxWaitTimeMs: Math.min(500, intervalMs),
      topic,
      groupId: `${name}.ingester`,
    },
    handler: ingestHandler({
      producer: stageProducerOf(producer),
      writer,
      log,
      metrics: createStageMetrics('ingester'),
      settings: { maxRows, maxBytes, intervalMs, retry, dlqTopic },
    }),
    onFatal: (err) => {
      if (!closing) fatal.push(err);
    },
  });
  await loop.start();

  // Short fetch waits: letters show up sooner, and disconnect does not wait out a 5 s fetch.
  const dlq: Consumer = kafkaClient(brokers).consumer({ groupId: `${name}.dlq-reader`, maxWaitTimeInMs: 50 });
  await dlq.connect();
  await dlq.subscribe({ topic: dlqTopic, fromBeginning: true });
  await dlq.run({
    eachMessage: async ({ message }) => {
      const h = (k: string) => message.headers?.[k]?.toString();
      const source = h('x-agenttrail-source')?.split('/').slice(-2).join('/');
      if (source) {
        letters.set(source, {
          reason: h('x-agenttrail-reason') ?? '',
          code: h('x-agenttrail-code') ?? '',
          eventId: h('x-agenttrail-event-id'),
        });
      }
      notify();
    },
  });

  await warmUp(producer, topic, ch, letters, () => new Promise((r) => waiters.push(() => r(undefined))));

  return {
    topic,
    dlqTopic,
    log,
    letters,
    fatal,
    retried,
    logTail: tail,
    healthy: () => loop.healthy() && fatal.length === 0,
    activity: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
    async close() {
      closing = true;
      // A wedged writer gives up at its next wait; a healthy one is cut short (nothing to keep).
      teardown.abort();
      await Promise.all([within(loop.stop(), 15_000), within(dlq.disconnect(), 10_000)]);
      await within(producer.disconnect(), 10_000);
      await ch.close().catch(() => {});
    },
  };
}

/** Ids of warm-up events: stored by every pipeline, not by a fuzz input. */
export const WARMUP_PREFIX = 'warmup-';

/**
 * One valid event and one poison message, waited for: the loop and the DLQ reader have joined
 * their groups and work before the first fuzz input's deadline starts.
 */
async function warmUp(
  producer: Producer,
  topic: string,
  ch: ClickHouseClient,
  letters: Map<string, Letter>,
  activity: () => Promise<unknown>,
): Promise<void> {
  const event = controlEvent(`${WARMUP_PREFIX}${topic.replace(/[^A-Za-z0-9]/g, '-')}`);
  await producer.send({
    topic,
    acks: -1,
    messages: [
      { key: 'warmup', value: JSON.stringify(event) },
      { key: 'warmup', value: 'warm-up poison' },
    ],
  });
  const deadline = Date.now() + 30_000;
  while (!((await storedIds(ch, [event.event_id])).size === 1 && letters.has('0/1'))) {
    if (Date.now() > deadline)
      throw new Error(`pipeline on ${topic}: warm-up not stored and dead-lettered in 30 s`);
    await Promise.race([activity(), new Promise((r) => setTimeout(r, 100))]);
  }
}

/** Settle `p` or give up after `ms`; teardown must not hang on a wedged component. */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$/;

/** Which of `ids` the `events` table holds (FINAL). Ids outside the schema's form never can. */
export async function storedIds(ch: ClickHouseClient, ids: Iterable<string>): Promise<Set<string>> {
  const wanted = [...new Set(ids)].filter((id) => ID.test(id));
  if (wanted.length === 0) return new Set();
  const rs = await ch.query({
    query: 'SELECT event_id FROM events FINAL WHERE event_id IN {ids:Array(String)}',
    query_params: { ids: wanted },
    format: 'JSONEachRow',
  });
  return new Set(((await rs.json()) as Array<{ event_id: string }>).map((r) => r.event_id));
}

/** Every event id in `events` (the database is one target's own). */
export async function allStoredIds(ch: ClickHouseClient): Promise<string[]> {
  const rs = await ch.query({ query: 'SELECT event_id FROM events FINAL', format: 'JSONEachRow' });
  return ((await rs.json()) as Array<{ event_id: string }>).map((r) => r.event_id);
}
