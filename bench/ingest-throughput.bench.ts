import { availableParallelism, cpus, loadavg } from 'node:os';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { statePath } from '../services/platform/state-dir.js';
import { stackUp } from '../stack/index.js';
import {
  createTopics,
  kafka,
  produceEvents,
  rawCount,
  spawnIngester,
  storedCounts,
} from './ingest-harness.js';
import { clickhousePid, hasKafkaEngine, type PeerResult, runFloor, runKafkaEngine } from './ingest-peers.js';
import { cpuMeter, stackPids } from './process-cpu.js';

// Sustained Kafka → ClickHouse throughput of the real ingester (a child process, as deployed),
// each insert mode, against ClickHouse's own Kafka engine and a floor, in one run.
//
//   npm run bench -- ingest
//   BENCH_EVENTS=200000 npx tsx bench/ingest-throughput.bench.ts
//   BENCH_EVENTS=500000 BENCH_FLUSH_MAX_ROWS=20000,50000,100000 npx tsx bench/ingest-throughput.bench.ts
//
// Pre-produces BENCH_EVENTS synthetic events (bench/ingest-events.ts) to a fresh topic, then on
// that topic, each into a fresh database (and so its own consumer group), timed from the first
// stored row to the last, with CPU per row of the ingester (its Kafka consumer included),
// ClickHouse and the broker:
//   - the ingester in each INGESTER_INSERT_MODE of BENCH_MODES (default rows,input), at the
//     first flush size; further flush sizes listed run the first mode (the sweep);
//   - ClickHouse's Kafka engine, a Kafka table + materialised view into the same `events` table
//     (bench/ingest-peers.ts; BENCH_KAFKA_ENGINE=0 skips it);
//   - the floor: ClickHouse inserting the same rows from files, no Kafka (ingest-peers.ts).
// Progress goes to stderr; the last stdout line is one JSON object, every ratio with both of its
// sides. The topic and databases are dropped afterwards (BENCH_KEEP=1 keeps them; a topic given
// as BENCH_TOPIC is never dropped).

const events = Number(process.env.BENCH_EVENTS ?? 500_000);
const partitions = Number(process.env.BENCH_PARTITIONS ?? 6);
// Events as the gateway produces them (validated, marked), unless BENCH_AS_GATEWAY=0.
const asGateway = process.env.BENCH_AS_GATEWAY !== '0';
// An existing topic holding BENCH_EVENTS events (a run with BENCH_KEEP=1 names it): no produce step.
const reuseTopic = process.env.BENCH_TOPIC;
const flushSizes = (process.env.BENCH_FLUSH_MAX_ROWS ?? '50000').split(',').map(Number);
const modes = (process.env.BENCH_MODES ?? 'rows,input').split(',').filter(Boolean);
const kafkaEngineWanted = process.env.BENCH_KAFKA_ENGINE !== '0';
// The ingester's default (services/ingester/config.ts): the runs' databases keep the same TTL.
const RETENTION_DAYS = 365;
const progress = (msg: string) => process.stderr.write(`[ingest-bench] ${msg}\n`);

interface RunResult {
  mode: string;
  flush_max_rows: number;
  events_per_s: number;
  seconds: number;
  bytes_per_event: number;
  bytes_per_event_unmerged: number;
  bytes_per_event_with_indexes: number;
  stored_final: number;
  /** CPU time per stored event, by process (µs), and their total: where the time goes. */
  cpu_us_per_event: Record<string, number>;
}

/** `a / b` with both sides, for the JSON. */
function ratio<K extends string, L extends string>(aName: K, a: number, bName: L, b: number) {
  return { [aName]: a, [bName]: b, ratio: Number((a / b).toFixed(2)) } as Record<K | L | 'ratio', number>;
}

async function main(): Promise<void> {
  const stack = await stackUp();
  const engines = await stackPids(stack);
  const brokers = stack.kafka.brokers;
  const clickhouseUrl = stack.clickhouse.url;
  const name = reuseTopic ? reuseTopic.replace(/\.events$/, '') : `bench_ingest_${Date.now().toString(36)}`;
  const topic = `${name}.events`;
  let produceS = Number.NaN;
  if (!reuseTopic) {
    await createTopics(brokers, [topic, `${name}.dlq`], partitions);
    progress(`producing ${events} events to ${topic} (${partitions} partitions, as gateway: ${asGateway})`);
    const t0 = performance.now();
    await produceEvents({ brokers, topic, run: name, from: 0, to: events, asGateway });
    produceS = (performance.now() - t0) / 1000;
    progress(`produced in ${produceS.toFixed(1)} s (${Math.round(events / produceS)} events/s)`);
  } else {
    progress(`reusing ${topic} (${events} events expected)`);
  }

  // Run-scoped databases (and so consumer groups): a reused topic is read from the start each run.
  const stamp = Date.now().toString(36);
  const plan = [
    ...modes.map((mode) => ({ mode, flushRows: flushSizes[0]! })),
    ...flushSizes.slice(1).map((flushRows) => ({ mode: modes[0]!, flushRows })),
  ];
  const databases = plan.map((_, i) => `${name}_${stamp}_${i}`);
  const kafkaDb = `${name}_${stamp}_kafka_engine`;
  const floorDb = `${name}_${stamp}_floor`;
  const ch = createClient({ url: clickhouseUrl, request_timeout: 300_000 });
  const pids = { kafka: engines.kafka?.pid, clickhouse: clickhousePid(engines.clickhouse) };
  progress(`CPU of: ${JSON.stringify(pids)}`);
  const runs: RunResult[] = [];
  let kafkaEngine:
    | (PeerResult & { available: true; format: string; variants: Record<string, PeerResult> })
    | { available: false; why: string };
  let floor: PeerResult;
  try {
    for (const [i, p] of plan.entries()) {
      runs.push(
        await run(ch, {
          brokers,
          clickhouseUrl,
          topic,
          database: databases[i]!,
          flushRows: p.flushRows,
          mode: p.mode,
          pids,
        }),
      );
    }
    if (!kafkaEngineWanted) kafkaEngine = { available: false, why: 'skipped (BENCH_KAFKA_ENGINE=0)' };
    else if (!(await hasKafkaEngine(ch)))
      kafkaEngine = {
        available: false,
        why: 'this ClickHouse build has no Kafka table engine (system.table_engines)',
      };
    else {
      // Two ways to feed the view; the cheaper (CPU per row) is the peer, both are printed.
      const variants: Record<string, PeerResult> = {};
      for (const format of ['as_string', 'each_row'] as const) {
        variants[format] = await runKafkaEngine(ch, {
          brokers,
          topic,
          database: `${kafkaDb}_${format}`,
          events,
          blockRows: flushSizes[0]!,
          retentionDays: RETENTION_DAYS,
          pids,
          format,
        });
      }
      const [best, peer] = Object.entries(variants).sort(
        (a, b) => a[1].cpu_us_per_row.total! - b[1].cpu_us_per_row.total!,
      )[0]!;
      kafkaEngine = { available: true, ...peer, format: best, variants };
    }
    floor = await runFloor(ch, {
      run: name,
      database: floorDb,
      events,
      chunkRows: flushSizes[0]!,
      retentionDays: RETENTION_DAYS,
      dir: statePath('bench-floor', name),
      clickhousePid: pids.clickhouse,
    });
  } finally {
    // The shared stack is not a scratch disk: drop what this run made unless asked to keep it.
    if (process.env.BENCH_KEEP !== '1') {
      for (const db of [...databases, `${kafkaDb}_as_string`, `${kafkaDb}_each_row`, floorDb]) {
        await ch.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db } });
      }
      if (!reuseTopic) await deleteTopics(brokers, [topic, `${name}.dlq`]);
    }
    await ch.close();
  }

  const head = runs[0]!;
  const byMode = Object.fromEntries(
    modes.map((m) => [m, runs.find((r) => r.mode === m && r.flush_max_rows === flushSizes[0])!]),
  );
  const floorUs = floor.cpu_us_per_row.total!;
  const result = {
    events,
    partitions,
    flush_max_rows: head.flush_max_rows,
    ingester: Object.fromEntries(
      Object.entries(byMode).map(([m, r]) => [
        m,
        { rows_per_s: r.events_per_s, seconds: r.seconds, cpu_us_per_row: r.cpu_us_per_event },
      ]),
    ),
    kafka_engine: kafkaEngine,
    ratio_vs_kafka_engine: kafkaEngine.available
      ? Object.fromEntries(
          Object.entries(byMode).map(([m, r]) => [
            m,
            {
              ...ratio(
                'ingester_rows_per_s',
                r.events_per_s,
                'kafka_engine_rows_per_s',
                kafkaEngine.rows_per_s,
              ),
              cpu_per_row: ratio(
                'kafka_engine_cpu_us',
                kafkaEngine.cpu_us_per_row.total!,
                'ingester_cpu_us',
                r.cpu_us_per_event.total!,
              ),
            },
          ]),
        )
      : 'no Kafka engine run',
    cpu_us_per_event: Object.fromEntries(
      Object.entries(byMode).map(([m, r]) => [m, r.cpu_us_per_event.total]),
    ),
    floor_us_per_row: floorUs,
    floor,
    ratio_to_floor: Object.fromEntries(
      Object.entries(byMode).map(([m, r]) => [
        m,
        ratio('cpu_us_per_event', r.cpu_us_per_event.total!, 'floor_us_per_row', floorUs),
      ]),
    ),
    ingest_events_per_s: head.events_per_s,
    bytes_per_event: head.bytes_per_event,
    bytes_per_event_unmerged: head.bytes_per_event_unmerged,
    bytes_per_event_with_indexes: head.bytes_per_event_with_indexes,
    produce_events_per_s: Math.round(events / produceS),
    sweep: runs.map((r) => ({
      mode: r.mode,
      flush_max_rows: r.flush_max_rows,
      events_per_s: r.events_per_s,
    })),
    load_average_1m: Number(loadavg()[0]!.toFixed(1)),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function run(
  ch: ClickHouseClient,
  o: {
    brokers: string[];
    clickhouseUrl: string;
    topic: string;
    database: string;
    flushRows: number;
    mode: string;
    pids: Record<string, number | undefined>;
  },
): Promise<RunResult> {
  progress(`run: INGESTER_INSERT_MODE=${o.mode} INGESTER_FLUSH_MAX_ROWS=${o.flushRows} into ${o.database}`);
  const ingester = spawnIngester({
    brokers: o.brokers,
    clickhouseUrl: o.clickhouseUrl,
    database: o.database,
    topic: o.topic,
    dlqTopic: o.topic.replace(/\.events$/, '.dlq'),
    logDir: statePath('bench-logs'),
    name: o.database,
    env: { INGESTER_FLUSH_MAX_ROWS: String(o.flushRows), INGESTER_INSERT_MODE: o.mode, LOG_LEVEL: 'warn' },
    nodeArgs: process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean),
  });
  try {
    // Time from the first stored rows to the last: start-up (migrations, group join) excluded.
    let start: { t: number; rows: number } | undefined;
    const meter = cpuMeter({ ...o.pids, ingester: ingester.child.pid });
    let rows = 0;
    while (rows < events) {
      if (ingester.exited()) throw new Error(`ingester exited: ${JSON.stringify(ingester.exited())}`);
      rows = await rawCount(ch, o.database);
      if (!start && rows > 0) {
        start = { t: performance.now(), rows };
        meter.start();
      }
      // Polled 4 times a second: every poll is two queries on the ClickHouse being measured.
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - start!.t) / 1000;
    const micros = meter.micros();
    const measured = events - start!.rows;
    const cpuPerEvent = Object.fromEntries(
      Object.entries(micros).map(([k, us]) => [k, Number((us / measured).toFixed(1))]),
    );
    cpuPerEvent.total = Number((Object.values(micros).reduce((a, b) => a + b, 0) / measured).toFixed(1));
    progress(`  CPU µs/event: ${JSON.stringify(cpuPerEvent)}; load average ${loadavg()[0]!.toFixed(1)}`);
    const rate = Math.round((events - start!.rows) / seconds);
    progress(`  ${events} rows in ${seconds.toFixed(2)} s after the first batch → ${rate} events/s`);
    const unmerged = await partBytes(ch, o.database);
    await ch.command({
      query: 'OPTIMIZE TABLE {db:Identifier}.events FINAL',
      query_params: { db: o.database },
    });
    const merged = await partBytes(ch, o.database);
    const counts = await storedCounts(ch, o.database);
    progress(`  stored: ${JSON.stringify(counts)}; bytes/event ${merged.columns.toFixed(1)} merged`);
    return {
      mode: o.mode,
      flush_max_rows: o.flushRows,
      events_per_s: rate,
      seconds: Number(seconds.toFixed(2)),
      bytes_per_event: Number(merged.columns.toFixed(1)),
      bytes_per_event_unmerged: Number(unmerged.columns.toFixed(1)),
      bytes_per_event_with_indexes: Number(merged.withIndexes.toFixed(1)),
      stored_final: counts.final,
      cpu_us_per_event: cpuPerEvent,
    };
  } finally {
    ingester.child.kill('SIGTERM');
    await ingester.waitExit(30_000).catch(() => ingester.child.kill('SIGKILL'));
  }
}

/** Compressed bytes per row of the active `events` parts: columns, and with skip indexes + projection. */
async function partBytes(
  ch: ClickHouseClient,
  db: string,
): Promise<{ columns: number; withIndexes: number }> {
  const rs = await ch.query({
    query: `SELECT
        sum(rows) AS rows,
        sum(data_compressed_bytes) AS data,
        sum(secondary_indices_compressed_bytes) AS idx,
        (SELECT sum(data_compressed_bytes) FROM system.projection_parts
          WHERE database = {db:String} AND table = 'events' AND active) AS proj
      FROM system.parts WHERE database = {db:String} AND table = 'events' AND active`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ rows: string; data: string; idx: string; proj: string }>();
  const rows = Number(r?.rows);
  return {
    columns: Number(r?.data) / rows,
    withIndexes: (Number(r?.data) + Number(r?.idx) + Number(r?.proj ?? 0)) / rows,
  };
}

async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`[ingest-bench] failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
