import { createClickHouse, createClickHouseAdmin } from '../platform/clickhouse/client.js';
import { migrate } from '../platform/clickhouse/migrate.js';
import { loadConfigOrExit } from '../platform/config.js';
import { AgentTrailError } from '../platform/errors.js';
import { createKafka } from '../platform/kafka/client.js';
import { sendDeadLetters } from '../platform/kafka/dead-letter.js';
import { createStageProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { createStageMetrics, serveMetrics } from '../platform/metrics.js';
import { WriteHealth } from '../platform/write-health.js';
import { alerterConfig } from './config.js';
import { type AlertConsumer, decodeStatus, startAlertConsumer } from './consume.js';
import { Deliverer } from './deliver.js';
import { clickHouseStore, DeliveryLog } from './delivery-log.js';
import { createAlerterMetrics } from './metrics.js';
import { loadRouting } from './routes.js';
import { httpSender } from './send.js';

// Wiring only: config, logger, lifecycle, clients, then the consumer. Logic lives in the
// modules imported above.

// No ownPrefix: the secrets a routes file names (secret_env, url_env) are the operator's
// variables and are often called ALERTER_*, so an unknown ALERTER_ name is not a typo here.
const config = loadConfigOrExit(alerterConfig);
const logger = createLogger('alerter', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });
const lifecycle = createLifecycle(logger, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
lifecycle.handleSignals();

async function main(): Promise<void> {
  // Routes refer to secrets by environment variable name; they are resolved here, once.
  const routing = await loadRouting(config.ALERTER_ROUTES_FILE, process.env);
  logger.info(
    {
      destinations: [...routing.destinations.values()].map((d) => ({ name: d.name, type: d.type })),
      routes: routing.routes.length,
    },
    'routes loaded',
  );

  const metrics = createStageMetrics('alerter');
  const alerterMetrics = createAlerterMetrics(metrics.registry);
  const admin = createClickHouseAdmin(config, 'alerter');
  try {
    await migrate(admin, { database: config.CLICKHOUSE_DATABASE, log: logger });
  } finally {
    await admin.close();
  }
  const clickhouse = createClickHouse(config, 'alerter');
  lifecycle.onStop('clickhouse', () => clickhouse.close());
  const store = clickHouseStore(clickhouse, config.CLICKHOUSE_DATABASE);
  const health = new WriteHealth({
    stage: 'alerter',
    notReadyAfterMs: config.ALERTER_NOT_READY_AFTER_MS,
    registry: metrics.registry,
  });

  const kafka = createKafka(config, logger, 'alerter');
  await ensureTopics(
    kafka,
    [config.KAFKA_TOPIC_ALERTS, config.KAFKA_TOPIC_ALERT_STATUS, config.KAFKA_TOPIC_DLQ],
    config.KAFKA_TOPIC_PARTITIONS,
  );
  const producer = createStageProducer(kafka);
  await producer.connect();
  lifecycle.onStop('producer', () => producer.disconnect());

  const deliveryLog = new DeliveryLog(store, logger.child({ component: 'delivery-log' }), {
    flushIntervalMs: config.ALERTER_LOG_FLUSH_INTERVAL_MS,
    onWriteError: (err) => {
      health.failed('clickhouse', err);
      metrics.errors.inc({ stage: 'alerter', code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' });
    },
    onWritten: () => health.succeeded('clickhouse'),
    // The page went out; only its log row is refused. It goes to the DLQ (until Kafka takes it).
    onRefused: async (refused) => {
      const letters = refused.map((r) => ({
        value: Buffer.from(JSON.stringify(r.row)),
        key: Buffer.from(r.row.alert_id),
        reason: `delivery row: ${r.reason}`,
        code: 'AT_ERR_CLICKHOUSE_REJECTED',
        clickhouseCode: r.clickhouseCode,
        source: { topic: config.KAFKA_TOPIC_ALERTS, partition: -1, offset: r.row.alert_id },
      }));
      for (let attempt = 1; ; attempt++) {
        try {
          await sendDeadLetters(producer, config.KAFKA_TOPIC_DLQ, letters);
          health.succeeded('kafka');
          metrics.dropped.inc({ stage: 'alerter', reason: 'clickhouse_rejected' }, letters.length);
          return;
        } catch (err) {
          health.failed('kafka', err);
          if (lifecycle.stopping) throw err;
          logger.warn({ err: (err as Error).message, attempt }, 'DLQ produce failed; retrying');
          await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
        }
      }
    },
  });

  const deliverer = new Deliverer({
    routing,
    send: httpSender,
    log: deliveryLog,
    logger,
    metrics: alerterMetrics,
    timelineBaseUrl: config.ALERTER_TIMELINE_BASE_URL,
  });
  const common = {
    kafka,
    producer,
    dlqTopic: config.KAFKA_TOPIC_DLQ,
    sessionTimeoutMs: config.ALERTER_SESSION_TIMEOUT_MS,
    fromBeginning: config.ALERTER_START_FROM === 'earliest',
    routing,
    deliverer,
    store,
    metrics,
    logger,
    health,
    commitIntervalMs: config.ALERTER_COMMIT_INTERVAL_MS,
    maxInFlight: config.ALERTER_MAX_IN_FLIGHT,
  };
  // Two loops, one deliverer and one delivery log: alerts are paged, status records (a
  // responder's acknowledge or resolve, from the API) followed up. Own group for the status
  // topic: members of one group subscribed to different topics confuse kafkajs' assignment.
  const consumers: AlertConsumer[] = [
    await startAlertConsumer({
      ...common,
      topic: config.KAFKA_TOPIC_ALERTS,
      groupId: config.ALERTER_CONSUMER_GROUP,
    }),
    await startAlertConsumer({
      ...common,
      topic: config.KAFKA_TOPIC_ALERT_STATUS,
      groupId: `${config.ALERTER_CONSUMER_GROUP}.status`,
      decode: decodeStatus,
      checkAll: true,
    }),
  ];
  const each = (f: (c: AlertConsumer) => unknown) => async () => {
    await Promise.all(consumers.map(f));
  };
  // Reverse order on shutdown: stop intake, finish in-flight pages, write the log, commit, leave.
  lifecycle.onStop(
    'kafka-consumer',
    each((c) => c.stop()),
  );
  lifecycle.onStop(
    'commit',
    each((c) => c.commit()),
  );
  lifecycle.onStop('delivery-log', () => deliveryLog.close());
  // Leave time within SHUTDOWN_TIMEOUT_MS for the log flush and the commit after the drain.
  lifecycle.onStop('deliveries', () => deliverer.drain(Math.floor(config.SHUTDOWN_TIMEOUT_MS * 0.6)));
  lifecycle.onStop(
    'intake',
    each((c) => c.pause()),
  );

  if (config.ALERTER_METRICS_PORT > 0) {
    const server = await serveMetrics(metrics.registry, {
      port: config.ALERTER_METRICS_PORT,
      host: config.ALERTER_METRICS_HOST,
      token: config.ALERTER_METRICS_TOKEN,
      healthy: () => consumers.every((c) => c.healthy()),
      // Both consumers in their groups, and the alerter's writes succeeding (runner.ts).
      ready: () => consumers.map((c) => c.ready()).find((r) => !r.ok) ?? { ok: true },
    });
    lifecycle.onStop('metrics', () => new Promise<void>((r) => server.close(() => r())));
  }
  logger.info(
    {
      topic: config.KAFKA_TOPIC_ALERTS,
      statusTopic: config.KAFKA_TOPIC_ALERT_STATUS,
      group: config.ALERTER_CONSUMER_GROUP,
    },
    'alerter started',
  );
}

main().catch((err) => {
  if (err instanceof AgentTrailError) process.stderr.write(`${err.code}: ${err.message}\n`);
  logger.fatal({ err }, 'alerter failed to start');
  logger.flush();
  process.exit(err instanceof AgentTrailError && err.code === 'AT_ERR_CONFIG_INVALID' ? 78 : 1);
});
