// kafkajs client ceiling: the raw CPU cost of the kafkajs producer and consumer themselves, with
// no service code around them: what one Node process can move at most, per core.
//
//   npx tsx bench/kafka-client.bench.ts   (or `npm run bench -- kafka-client`)
//
// Brings the local stack up (or reuses it), creates two fresh topics and, in one run:
//   1. producer: the services' producer (platform/kafka/producer.ts: idempotent, acks=-1, one
//      request in flight), BENCH_CONCURRENCY sends of BENCH_BATCH pre-built messages in flight,
//      BENCH_WARMUP_SECONDS untimed then BENCH_SECONDS timed; once with the header the gateway
//      sets (x-agenttrail-validated, services/platform/kafka/headers.ts) and once without.
//      Messages are ~700-byte v1 events as JSON Buffers (bench/ingest-events.ts), keyed by one of
//      20,000 task ids, all built before timing.
//   2. consumer: a fresh group reads the with-headers topic from the beginning to its end: at least
//      BENCH_CONSUME_MESSAGES (topped up untimed if the producer run left fewer; read to the end so
//      that no fetch is decoded but left uncounted), eachBatch only touching m.value.length and
//      resolving offsets; maxBytes 64 MiB, maxBytesPerPartition 16 MiB.
//      Timed from the group join: kafkajs decodes a whole fetch before the first eachBatch, so
//      timing from the first batch would leave that decoding out.
// CPU per message is this process's process.cpuUsage() delta over the messages acknowledged
// (producer) or delivered (consumer) in the window; the broker's (from /proc, when its pid is
// known) likewise. 1e6 / cpu_us_per_msg is the implied ceiling of one process on one core.
// Progress goes to stderr; the LAST stdout line is JSON with producer_msgs_per_s,
// producer_cpu_us_per_msg, producer_ceiling_msgs_per_s_one_core (with headers), the same with
// producer_no_headers_*, and consumer_* likewise. Topics and the group are deleted at the end.
//
// Knobs (env): BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (3), BENCH_BATCH (1000),
// BENCH_CONCURRENCY (8), BENCH_PARTITIONS (6), BENCH_CONSUME_MESSAGES (500000),
// BENCH_IDLE_SECONDS (3: broker CPU with no load from us, sampled first; 0 skips it),

import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { Kafka, Message } from 'kafkajs';
import pino from 'pino';
import { createKafka } from '../services/platform/kafka/client.js';
import { createProducer, sendAcked } from '../services/platform/kafka/producer.js';
import { ensureTopics } from '../services/platform/kafka/topics.js';
import { stackDown, stackUp } from '../stack/index.js';
import { gatewayMessage } from './ingest-events.js';
import { processCpuMicros, stackPids } from './process-cpu.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const CONSUME = Number(process.env.BENCH_CONSUME_MESSAGES ?? 500_000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 3);
const TASKS = 20_000;
const EVENTS_PER_TASK = 50; // as bench/ingest-events.ts lays events out
const MAX_BYTES = 64 * 1024 * 1024;
const MAX_BYTES_PER_PARTITION = 16 * 1024 * 1024;

const log = (msg: string) => process.stderr.write(`[kafka-client-bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

interface Snapshot {
  t: number;
  cpuUs: number;
  elu: EventLoopUtilization;
  brokerUs: number | undefined;
}

function snapshot(brokerPid: number | undefined): Snapshot {
  const c = process.cpuUsage();
  return {
    t: performance.now(),
    cpuUs: c.user + c.system,
    elu: performance.eventLoopUtilization(),
    brokerUs: processCpuMicros(brokerPid),
  };
}

interface Window {
  messages: number;
  seconds: number;
  msgs_per_s: number;
  cpu_us_per_msg: number;
  cpu_cores: number;
  event_loop_util: number;
  broker_cpu_us_per_msg: number | null;
  broker_cpu_cores: number | null;
  ceiling_msgs_per_s_one_core: number;
}

function window(a: Snapshot, b: Snapshot, messages: number): Window {
  const seconds = (b.t - a.t) / 1000;
  const cpuUs = b.cpuUs - a.cpuUs;
  const brokerUs = a.brokerUs !== undefined && b.brokerUs !== undefined ? b.brokerUs - a.brokerUs : undefined;
  const perMsg = cpuUs / messages;
  return {
    messages,
    seconds: round(seconds),
    msgs_per_s: Math.round(messages / seconds),
    cpu_us_per_msg: round(perMsg),
    cpu_cores: round(cpuUs / 1e6 / seconds),
    event_loop_util: round(performance.eventLoopUtilization(b.elu, a.elu).utilization),
    broker_cpu_us_per_msg: brokerUs !== undefined ? round(brokerUs / messages) : null,
    broker_cpu_cores: brokerUs !== undefined ? round(brokerUs / 1e6 / seconds) : null,
    ceiling_msgs_per_s_one_core: Math.round(1e6 / perMsg),
  };
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * Pre-built batches: enough distinct arrays that every send in flight has its own. Event j of
 * bench/ingest-events.ts belongs to task floor(j / 50); message i takes event seq i % 50 of task
 * (i * 7919) % 20,000, so consecutive messages spread over all 20,000 keys.
 */
function buildBatches(run: string): { withHeaders: Message[][]; plain: Message[][]; avgBytes: number } {
  const count = Math.max(CONCURRENCY * 2, Math.ceil(40_000 / BATCH));
  const withHeaders: Message[][] = [];
  const plain: Message[][] = [];
  let bytes = 0;
  for (let b = 0; b < count; b++) {
    const h: Message[] = [];
    const p: Message[] = [];
    for (let k = 0; k < BATCH; k++) {
      const i = b * BATCH + k;
      const task = (i * 7919) % TASKS;
      const m = gatewayMessage(run, task * EVENTS_PER_TASK + (i % EVENTS_PER_TASK));
      const value = Buffer.from(m.value);
      bytes += value.length;
      h.push({ key: m.key, value, headers: m.headers });
      p.push({ key: m.key, value });
    }
    withHeaders.push(h);
    plain.push(p);
  }
  return { withHeaders, plain, avgBytes: bytes / (count * BATCH) };
}

async function topicCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** BENCH_CONCURRENCY senders over `batches`, warm-up then a timed window; acked messages counted. */
async function produce(
  kafka: Kafka,
  topic: string,
  batches: Message[][],
  brokerPid: number | undefined,
  label: string,
): Promise<Window> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    // Metadata and InitProducerId out of the way before anything is timed.
    await sendAcked(producer, topic, batches[0]!.slice(0, 10));
    gc();
    let acked = 0;
    let next = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const messages = batches[next++ % batches.length]!;
        await sendAcked(producer, topic, messages);
        acked += messages.length;
      }
    };
    const workers = Array.from({ length: CONCURRENCY }, worker);
    await sleep(WARMUP * 1000);
    const a = snapshot(brokerPid);
    const n0 = acked;
    const progress = setInterval(() => log(`  ${label}: ${acked - n0} messages acknowledged`), 5000);
    await sleep(SECONDS * 1000);
    const b = snapshot(brokerPid);
    const n1 = acked;
    clearInterval(progress);
    stop = true;
    await Promise.all(workers);
    const w = window(a, b, n1 - n0);
    const onTopic = await topicCount(kafka, topic);
    if (onTopic < acked + 10) log(`WARNING: ${acked + 10} acknowledged but only ${onTopic} on ${topic}`);
    log(
      `  ${label}: ${w.msgs_per_s} msg/s, ${w.cpu_us_per_msg} µs CPU/msg (${w.cpu_cores} cores), ` +
        `broker ${w.broker_cpu_us_per_msg ?? '?'} µs/msg`,
    );
    return w;
  } finally {
    await producer.disconnect();
  }
}

/** Untimed: bring `topic` up to at least `target` messages. */
async function topUp(kafka: Kafka, topic: string, batches: Message[][], target: number): Promise<void> {
  const have = await topicCount(kafka, topic);
  if (have >= target) return;
  log(`topping ${topic} up from ${have} to ${target} messages (untimed)`);
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    let issued = have;
    let next = 0;
    const worker = async () => {
      while (issued < target) {
        const batch = batches[next++ % batches.length]!;
        const messages = issued + batch.length > target ? batch.slice(0, target - issued) : batch;
        issued += messages.length;
        await sendAcked(producer, topic, messages);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    await producer.disconnect();
  }
}

interface ConsumeResult extends Window {
  batches: number;
  from_first_batch_cpu_us_per_msg: number;
  from_first_batch_msgs_per_s: number;
}

/** A fresh group reads `expect` messages from the beginning; timed from its group join. */
async function consume(
  kafka: Kafka,
  topic: string,
  groupId: string,
  expect: number,
  brokerPid: number | undefined,
): Promise<ConsumeResult> {
  const consumer = kafka.consumer({
    groupId,
    maxBytes: MAX_BYTES,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    allowAutoTopicCreation: false,
  });
  let joined: Snapshot | undefined;
  let first: Snapshot | undefined;
  let n = 0;
  let batches = 0;
  let bytes = 0;
  let done!: (s: Snapshot) => void;
  const finished = new Promise<Snapshot>((r) => {
    done = r;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined ??= snapshot(brokerPid);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    gc();
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        first ??= snapshot(brokerPid);
        const ms = batch.messages;
        for (let i = 0; i < ms.length; i++) bytes += ms[i]!.value?.length ?? 0;
        n += ms.length;
        batches++;
        if (ms.length > 0) resolveOffset(ms[ms.length - 1]!.offset);
        if (n >= expect) done(snapshot(brokerPid));
      },
    });
    const timeoutMs = Math.max(120_000, expect / 2); // 2,000 msg/s at the very least
    const progress = setInterval(() => log(`  consumer: ${n} messages`), 5000);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`consumer read ${n} of ${expect} messages in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => {
      clearInterval(progress);
      clearTimeout(timer);
    });
    if (!joined || !first) throw new Error('consumer finished without a group join or a batch');
    const w = window(joined, end, n);
    const fromFirst = window(first, end, n);
    log(
      `  consumer: ${w.msgs_per_s} msg/s, ${w.cpu_us_per_msg} µs CPU/msg (${w.cpu_cores} cores) from the ` +
        `group join; ${batches} batches, ${Math.round(bytes / n)} bytes/value`,
    );
    return {
      ...w,
      batches,
      from_first_batch_cpu_us_per_msg: fromFirst.cpu_us_per_msg,
      from_first_batch_msgs_per_s: fromFirst.msgs_per_s,
    };
  } finally {
    await consumer.disconnect();
  }
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const stack = await stackUp();
  const brokers = stack.kafka.brokers;
  log(`stack: kafka ${brokers.join(',')} (started: ${stack.started.join(',') || 'none, reused'})`);
  // kafkajs' own warnings go to stderr: stdout carries only the result line.
  const logger = pino({ level: 'warn', base: { service: 'kafka-client-bench' } }, pino.destination(2));
  const kafka = createKafka(
    { KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'agenttrail-kafka-client-bench' },
    logger,
  );
  const broker = (await stackPids(stack)).kafka;
  log(broker ? `broker pid ${broker.pid} (${broker.source})` : 'broker pid not found: no broker CPU figures');

  const run = `bkc${Date.now().toString(36)}`;
  const topics = { headers: `bench.kafka-client.${run}.headers`, plain: `bench.kafka-client.${run}.plain` };
  const groupId = `bench.kafka-client.${run}.consumer`;
  const admin = kafka.admin();
  await admin.connect();
  let result: Record<string, unknown> | undefined;
  try {
    await ensureTopics(kafka, [topics.headers, topics.plain], PARTITIONS);

    let brokerIdleCores: number | null = null;
    if (broker && IDLE_SECONDS > 0) {
      const a = snapshot(broker.pid);
      await sleep(IDLE_SECONDS * 1000);
      const w = window(a, snapshot(broker.pid), 1);
      brokerIdleCores = w.broker_cpu_cores;
      log(`broker idle (other clients, housekeeping): ${brokerIdleCores} cores`);
    }

    const t0 = performance.now();
    const built = buildBatches(run);
    log(
      `built ${built.withHeaders.length} × ${BATCH} messages (${Math.round(built.avgBytes)} bytes/value) ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${CONCURRENCY} sends in flight, ` +
        `${WARMUP} s warm-up + ${SECONDS} s per producer run, ${PARTITIONS} partitions`,
    );

    log(`producer with headers → ${topics.headers}`);
    const withHeaders = await produce(kafka, topics.headers, built.withHeaders, broker?.pid, 'headers');
    log(`producer without headers → ${topics.plain}`);
    const plain = await produce(kafka, topics.plain, built.plain, broker?.pid, 'no headers');

    await topUp(kafka, topics.headers, built.withHeaders, CONSUME);
    const toConsume = await topicCount(kafka, topics.headers);
    log(`consumer (group ${groupId}) reads all ${toConsume} messages of ${topics.headers}`);
    const consumer = await consume(kafka, topics.headers, groupId, toConsume, broker?.pid);

    result = {
      producer_msgs_per_s: withHeaders.msgs_per_s,
      producer_cpu_us_per_msg: withHeaders.cpu_us_per_msg,
      producer_broker_cpu_us_per_msg: withHeaders.broker_cpu_us_per_msg,
      producer_ceiling_msgs_per_s_one_core: withHeaders.ceiling_msgs_per_s_one_core,
      producer_no_headers_msgs_per_s: plain.msgs_per_s,
      producer_no_headers_cpu_us_per_msg: plain.cpu_us_per_msg,
      producer_no_headers_broker_cpu_us_per_msg: plain.broker_cpu_us_per_msg,
      producer_no_headers_ceiling_msgs_per_s_one_core: plain.ceiling_msgs_per_s_one_core,
      consumer_msgs_per_s: consumer.msgs_per_s,
      consumer_cpu_us_per_msg: consumer.cpu_us_per_msg,
      consumer_broker_cpu_us_per_msg: consumer.broker_cpu_us_per_msg,
      consumer_ceiling_msgs_per_s_one_core: consumer.ceiling_msgs_per_s_one_core,
      // Detail: cores busy and event-loop utilisation show whether a run was CPU-bound.
      producer: { headers: withHeaders, no_headers: plain },
      consumer,
      headers: Object.keys(built.withHeaders[0]?.[0]?.headers ?? {}).join(', '),
      value_bytes: Math.round(built.avgBytes),
      batch: BATCH,
      concurrency: CONCURRENCY,
      partitions: PARTITIONS,
      consumer_messages: consumer.messages,
      broker_pid: broker?.pid ?? null,
      broker_pid_source: broker?.source ?? null,
      broker_idle_cpu_cores: brokerIdleCores,
      load_average_1m: Number(loadavg()[0]!.toFixed(1)),
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      kafkajs: (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version,
    };
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.deleteTopics({ topics: [topics.headers, topics.plain] }).catch((err) => {
      log(`could not delete topics ${topics.headers}, ${topics.plain}: ${(err as Error).message}`);
    });
    await admin.disconnect();
    if (stack.started.length > 0) await stackDown({ only: stack.started });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
