import { createReadStream, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  EVENT_FIELD_NAMES,
  EVENT_STRUCTURE,
  eventRowsSelect,
  INPUT_SETTINGS,
} from '../services/ingester/input-sql.js';
import { trustedLine } from '../services/ingester/trusted.js';
import { EVENT_COLUMNS } from '../services/platform/clickhouse/event-row.js';
import { migrate } from '../services/platform/clickhouse/migrate.js';
import { cmdlineOf } from '../stack/process.js';
import { gatewayMessage } from './ingest-events.js';
import { rawCount } from './ingest-harness.js';
import { cpuMeter } from './process-cpu.js';

// What bench/ingest-throughput.bench.ts measures the ingester against, in the same run:
//
//   kafka engine  ClickHouse's own Kafka table engine on the same topic: a Kafka table (the
//                 input mode's envelope columns, JSONEachRow) and a materialised view into the
//                 same `events` table, deriving the rows with the input mode's expressions
//                 (services/ingester/input-sql.ts; rows its rules refuse are skipped, as a view
//                 has nowhere to send them).
//   floor         ClickHouse inserting the same rows from files, no Kafka and no ingester: the
//                 rows path's JSONCompactEachRow lines, one insert per flush-size chunk, with the
//                 writer's settings. What an ingest cannot go below on this ClickHouse.

export interface PeerResult {
  rows_per_s: number;
  seconds: number;
  /** CPU µs per row, by process, and their total. */
  cpu_us_per_row: Record<string, number>;
}

const progress = (msg: string) => process.stderr.write(`[ingest-bench] ${msg}\n`);

/**
 * The ClickHouse engine's pid: the one the stack recorded, else the single ClickHouse process on
 * this machine (the shared stack started under another state dir: `clickhouse-launch.py`
 * running libchdb, or a `clickhouse server`). Undefined when there is none or several.
 */
export function clickhousePid(known: number | undefined): number | undefined {
  if (known) return known;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = cmdlineOf(Number(entry));
    if (
      argv.some((a) => a.endsWith('clickhouse-launch.py') || /(^|\/)clickhouse(-server)?$/.test(a)) &&
      !argv.includes('client')
    )
      found.push(Number(entry));
  }
  return found.length === 1 ? found[0] : undefined;
}

/** Is the Kafka table engine in this ClickHouse build? */
export async function hasKafkaEngine(ch: ClickHouseClient): Promise<boolean> {
  const rs = await ch.query({
    query: "SELECT count() AS n FROM system.table_engines WHERE name = 'Kafka'",
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n) > 0;
}

function perRow(micros: Record<string, number>, rows: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [k, us] of Object.entries(micros)) {
    out[k] = Number((us / rows).toFixed(1));
    total += us;
  }
  out.total = Number((total / rows).toFixed(1));
  return out;
}

/** The Kafka engine on `topic` into `database`.events, timed from the first stored row to the last. */
export async function runKafkaEngine(
  ch: ClickHouseClient,
  o: {
    brokers: string[];
    topic: string;
    database: string;
    events: number;
    blockRows: number;
    retentionDays: number;
    pids: Record<string, number | undefined>;
    format: 'each_row' | 'as_string';
  },
): Promise<PeerResult> {
  progress(`run: ClickHouse Kafka engine (${o.format}) into ${o.database}`);
  await migrate(ch, { database: o.database, retentionDays: o.retentionDays });
  const db = o.database;
  // Identifiers and settings are this run's own names, never input; quoted as literals.
  // `each_row`: the Kafka table parses the envelope columns (JSONEachRow, the input mode's
  // settings). `as_string`: one String per message (JSONAsString), the columns then extracted by
  // JSONExtract in the view. Both feed the same row expressions.
  const formatSettings = Object.entries(INPUT_SETTINGS).map(([k, v]) => `${k} = ${v}`);
  const table = o.format === 'each_row' ? `(${EVENT_STRUCTURE})` : '(e String)';
  await ch.command({
    query: `CREATE TABLE ${db}.events_kafka ${table} ENGINE = Kafka SETTINGS
      kafka_broker_list = '${o.brokers.join(',')}',
      kafka_topic_list = '${o.topic}',
      kafka_group_name = '${db}.kafka_engine',
      kafka_format = '${o.format === 'each_row' ? 'JSONEachRow' : 'JSONAsString'}',
      kafka_num_consumers = 1,
      kafka_max_block_size = ${o.blockRows},
      kafka_flush_interval_ms = 1000${o.format === 'each_row' ? `,\n      ${formatSettings.join(',\n      ')}` : ''}`,
  });
  const ts = 'toUnixTimestamp64Milli(_timestamp_ms) AS ts';
  const source =
    o.format === 'each_row'
      ? `(SELECT *, toUInt32(0) AS n, ${ts} FROM ${db}.events_kafka)`
      : `(SELECT toUInt32(0) AS n, ${ts}, JSONExtract(e, 'Tuple(${EVENT_STRUCTURE})') AS t, ${EVENT_FIELD_NAMES.map((f) => `t.${f} AS ${f}`).join(', ')} FROM ${db}.events_kafka)`;
  await ch.command({
    query: `CREATE MATERIALIZED VIEW ${db}.events_kafka_mv TO ${db}.events (${EVENT_COLUMNS.join(', ')}) AS ${eventRowsSelect(source, 'skip')}`,
  });
  try {
    const meter = cpuMeter(o.pids);
    let start: { t: number; rows: number } | undefined;
    let rows = 0;
    const deadline = Date.now() + 600_000;
    while (rows < o.events) {
      if (Date.now() > deadline) throw new Error(`Kafka engine stored ${rows} of ${o.events} rows in 10 min`);
      rows = await rawCount(ch, db);
      if (!start && rows > 0) {
        start = { t: performance.now(), rows };
        meter.start();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - start!.t) / 1000;
    const measured = o.events - start!.rows;
    const result = {
      rows_per_s: Math.round(measured / seconds),
      seconds: Number(seconds.toFixed(2)),
      cpu_us_per_row: perRow(meter.micros(), measured),
    };
    progress(`  ${JSON.stringify(result)}`);
    return result;
  } finally {
    await ch.command({ query: `DROP TABLE IF EXISTS ${db}.events_kafka_mv SYNC` });
    await ch.command({ query: `DROP TABLE IF EXISTS ${db}.events_kafka SYNC` });
  }
}

/**
 * The floor: the rows path's lines of the same events (gateway messages of `run`, as on the
 * topic) written to files, then inserted into `database`.events `chunkRows` at a time, measuring
 * ClickHouse's CPU only over the inserts.
 */
export async function runFloor(
  ch: ClickHouseClient,
  o: {
    run: string;
    database: string;
    events: number;
    chunkRows: number;
    retentionDays: number;
    dir: string;
    clickhousePid: number | undefined;
  },
): Promise<PeerResult> {
  progress(`run: floor, ClickHouse inserting the same rows from files into ${o.database}`);
  await migrate(ch, { database: o.database, retentionDays: o.retentionDays });
  mkdirSync(o.dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < o.events; i += o.chunkRows) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(o.events, i + o.chunkRows); j++) {
      const line = trustedLine(JSON.parse(gatewayMessage(o.run, j).value), 0);
      if (line === undefined) throw new Error(`event ${j} fails the structural check`);
      lines.push(line);
    }
    const file = join(o.dir, `rows-${files.length}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    files.push(file);
  }
  const query = `INSERT INTO ${o.database}.events (${EVENT_COLUMNS.join(', ')}) FORMAT JSONCompactEachRow`;
  const meter = cpuMeter({ clickhouse: o.clickhousePid });
  try {
    const t0 = performance.now();
    meter.start();
    for (const file of files) {
      const r = await ch.exec({
        query,
        values: createReadStream(file),
        clickhouse_settings: {
          input_format_json_read_objects_as_strings: 1,
          input_format_parallel_parsing: 0,
          async_insert: 0,
          wait_end_of_query: 1,
        },
      });
      r.stream.resume();
      await new Promise<void>((resolve, reject) => {
        r.stream.once('end', resolve).once('close', resolve).once('error', reject);
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const micros = meter.micros();
    const stored = await rawCount(ch, o.database);
    if (stored !== o.events) throw new Error(`floor stored ${stored} of ${o.events} rows`);
    const result = {
      rows_per_s: Math.round(o.events / seconds),
      seconds: Number(seconds.toFixed(2)),
      cpu_us_per_row: perRow(micros, o.events),
    };
    progress(`  ${JSON.stringify(result)}`);
    return result;
  } finally {
    rmSync(o.dir, { recursive: true, force: true });
  }
}
