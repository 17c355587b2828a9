// Alerter stage latency: alert produced to Kafka → alerter → signed webhook received.
//
//   npx tsx bench/alert-latency-alerter.bench.ts
//
// The stage part of the end-to-end alert-latency benchmark (gateway → detector → alerter),
// which needs the detector service wired. Brings the local stack up (or reuses it, or uses
// KAFKA_BROKERS / CLICKHOUSE_URL), starts the real alerter as a child process, produces
// alerts with distinct dedup keys at a fixed rate and measures, per alert, from the produce
// call to the receiver having the page (signature verified). The LAST stdout line is JSON.
//
// Knobs (env): BENCH_SECONDS (10), BENCH_RATE (200 alerts/s), BENCH_GROUP_WAIT_MS (100, the
// schema default: it is part of every first page's latency by design).

import { Kafka, logLevel } from 'kafkajs';
import { startReceiver } from '../cli/pipeline/receiver.js';
import { makeAlert } from '../services/alerter/testing.js';
import { stackUp } from '../stack/index.js';
import { spawnAlerter, writeRoutes } from '../test/helpers/alerter.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const GROUP_WAIT_MS = Number(process.env.BENCH_GROUP_WAIT_MS ?? 100);
const log = (msg: string) => process.stderr.write(`[alert-latency-alerter] ${msg}\n`);

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const ep = await stackUp({ log });
  const run = `bench_alerter_${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'bench', brokers: ep.kafka.brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: run, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();

  const secret = 'whsec_bench';
  const rx = await startReceiver({ secret });
  const routes = writeRoutes({
    version: 1,
    destinations: {
      // A machine receiver: rate and concurrency raised from the human-channel defaults.
      hook: {
        type: 'webhook',
        url: `${rx.url}/hook`,
        secret_env: 'BENCH_SECRET',
        group_wait_ms: GROUP_WAIT_MS,
        rate_per_s: 5_000,
        burst: 5_000,
        concurrency: 32,
      },
    },
    routes: [{ name: 'all', destinations: ['hook'] }],
  });
  const alerter = await spawnAlerter({
    KAFKA_BROKERS: ep.kafka.brokers.join(','),
    CLICKHOUSE_URL: ep.clickhouse.url,
    CLICKHOUSE_DATABASE: run,
    KAFKA_TOPIC_ALERTS: run,
    KAFKA_TOPIC_DLQ: `${run}_dlq`,
    ALERTER_CONSUMER_GROUP: run,
    ALERTER_START_FROM: 'earliest',
    ALERTER_ROUTES_FILE: routes,
    ALERTER_METRICS_PORT: '0',
    BENCH_SECRET: secret,
    LOG_LEVEL: 'info',
  });
  const producer = kafka.producer();
  await producer.connect();
  // Let the consumer finish joining its group before the clock starts.
  await new Promise((r) => setTimeout(r, 3_000));

  const sentAt = new Map<string, number>();
  const total = SECONDS * RATE;
  const tick = 20;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  log(`producing ${total} alerts at ${RATE}/s (group wait ${GROUP_WAIT_MS} ms)`);
  const started = performance.now();
  let produced = 0;
  while (produced < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE) + perTick);
    const batch = [];
    for (; produced < due; produced++) batch.push(makeAlert({ labels: { bench: run } }));
    if (batch.length > 0) {
      const t0 = Date.now();
      for (const a of batch) sentAt.set(a.alert_id, t0);
      await producer.send({
        topic: run,
        acks: -1,
        messages: batch.map((a) => ({ key: a.task_id, value: JSON.stringify(a) })),
      });
    }
    await new Promise((r) => setTimeout(r, tick));
  }
  await rx.waitFor((r) => r.delivered().length >= total, 60_000).catch(() => undefined);

  const latencies: number[] = [];
  let badSignatures = 0;
  for (const r of rx.delivered()) {
    if (!r.signature?.ok) badSignatures++;
    const ids = (r.json as { group: { alert_ids: string[] } }).group.alert_ids;
    for (const id of ids) {
      const t0 = sentAt.get(id);
      if (t0 !== undefined) latencies.push(r.at - t0);
    }
  }
  latencies.sort((a, b) => a - b);
  await producer.disconnect();
  await alerter.stop('SIGTERM');
  await rx.close();
  const result = {
    alerter_p50_ms: quantile(latencies, 0.5),
    alerter_p99_ms: quantile(latencies, 0.99),
    alerter_max_ms: latencies.at(-1) ?? NaN,
    alerts: total,
    delivered: latencies.length,
    bad_signatures: badSignatures,
    rate_per_s: RATE,
    group_wait_ms: GROUP_WAIT_MS,
  };
  log(`delivered ${latencies.length}/${total}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
