import { steadyBackoffMs } from '../platform/backoff.js';
import { createClickHouse, createClickHouseAdmin } from '../platform/clickhouse/client.js';
import { migrate } from '../platform/clickhouse/migrate.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createKafka } from '../platform/kafka/client.js';
import { createStageProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { createStageMetrics, serveMetrics } from '../platform/metrics.js';
import { WriteHealth } from '../platform/write-health.js';
import { checkIngesterConfig, ingesterConfig } from './config.js';
import { createIngestLoop, type IngestLoop } from './loop.js';
import { createEventWriter } from './writer.js';

// Wiring only: config, logger, lifecycle, clients, migrations, the loop.

const config = loadConfigOrExit(ingesterConfig, { ownPrefix: 'INGESTER_' });
const problems = checkIngesterConfig(config);
if (problems.length > 0) {
  process.stderr.write(`AT_ERR_CONFIG_INVALID: invalid configuration: ${problems.join('; ')}\n`);
  process.exit(78);
}

const log = createLogger('ingester', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });
const lifecycle = createLifecycle(log, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
lifecycle.handleSignals();
const metrics = createStageMetrics('ingester');
const health = new WriteHealth({
  stage: 'ingester',
  notReadyAfterMs: config.INGESTER_NOT_READY_AFTER_MS,
  registry: metrics.registry,
});
const retry = { initialMs: config.INGESTER_RETRY_INITIAL_MS, maxMs: config.INGESTER_RETRY_MAX_MS };

/** Start-up steps that need ClickHouse or Kafka wait for them instead of crash-looping. */
async function untilDone<T>(what: string, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (lifecycle.stopping) throw err;
      if ((err as { code?: string }).code === 'AT_ERR_MIGRATION_FAILED') throw err;
      const delay = steadyBackoffMs(attempt, retry);
      log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function main(): Promise<void> {
  let loop: IngestLoop | undefined;
  if (config.INGESTER_METRICS_PORT > 0) {
    const server = await serveMetrics(metrics.registry, {
      port: config.INGESTER_METRICS_PORT,
      host: config.INGESTER_METRICS_HOST,
      token: config.INGESTER_METRICS_TOKEN,
      healthy: () => loop?.healthy() ?? false,
      // In the consumer group and writing: platform/kafka/runner.ts.
      ready: () => loop?.ready() ?? { ok: false, reason: 'starting' },
    });
    lifecycle.onStop('metrics', () => new Promise<void>((r) => server.close(() => r())));
  }

  // The writer logs each failed insert with its retry plan; the client's own line would repeat it.
  const clientLog = log.child({}, { level: 'fatal' });
  const admin = createClickHouseAdmin(config, 'ingester', clientLog);
  await untilDone('migrations', () =>
    migrate(admin, {
      database: config.CLICKHOUSE_DATABASE,
      retentionDays: config.INGESTER_RETENTION_DAYS,
      log,
    }),
  );
  await admin.close();

  const clickhouse = createClickHouse(config, 'ingester', undefined, clientLog);
  lifecycle.onStop('clickhouse', () => clickhouse.close());

  const kafka = createKafka(config, log, 'ingester');
  await untilDone('topic check', () =>
    ensureTopics(kafka, [config.KAFKA_TOPIC_EVENTS, config.KAFKA_TOPIC_DLQ], config.KAFKA_TOPIC_PARTITIONS),
  );
  const producer = createStageProducer(kafka);
  await untilDone('DLQ producer connect', () => producer.connect());
  lifecycle.onStop('producer', () => producer.disconnect());

  const writer = createEventWriter(clickhouse, { retry, log: log.child({ component: 'writer' }), health });
  const ingest = createIngestLoop({
    kafka,
    producer,
    writer,
    log,
    metrics,
    health,
    settings: {
      topic: config.KAFKA_TOPIC_EVENTS,
      dlqTopic: config.KAFKA_TOPIC_DLQ,
      groupId: config.INGESTER_CONSUMER_GROUP,
      maxRows: config.INGESTER_FLUSH_MAX_ROWS,
      maxBytes: config.INGESTER_FLUSH_MAX_BYTES,
      intervalMs: config.INGESTER_FLUSH_INTERVAL_MS,
      retry,
      sessionTimeoutMs: config.INGESTER_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: config.INGESTER_HEARTBEAT_INTERVAL_MS,
      fetchMaxBytes: config.INGESTER_FETCH_MAX_BYTES,
      fetchMaxBytesPerPartition: config.INGESTER_FETCH_MAX_BYTES_PER_PARTITION,
    },
    onFatal: (err) => {
      log.fatal({ err }, 'a flush failed without an outage to blame; exiting so nothing later is committed');
      log.flush();
      process.exit(70);
    },
  });
  loop = ingest;
  lifecycle.onStop('consumer', () => ingest.stop());
  await untilDone('consumer start', () => ingest.start());
  log.info({ database: config.CLICKHOUSE_DATABASE, topic: config.KAFKA_TOPIC_EVENTS }, 'ingester running');
}

main().catch((err) => {
  log.fatal({ err }, 'ingester failed to start');
  log.flush();
  process.exit(1);
});
