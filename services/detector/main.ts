import { createClickHouse, createClickHouseAdmin } from '../platform/clickhouse/client.js';
import { migrate } from '../platform/clickhouse/migrate.js';
import { ALL_TENANTS, AlertsRepository } from '../platform/clickhouse/read/index.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createKafka } from '../platform/kafka/client.js';
import { createStageProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { createStageMetrics, serveMetrics } from '../platform/metrics.js';
import { WriteHealth } from '../platform/write-health.js';
import { createDetector } from './engine.js';
import { createDetectorLoop } from './service/consume.js';
import { createDetectorMetrics } from './service/metrics.js';
import { AlertPublisher } from './service/publish.js';
import { alertsOnTopicSince } from './service/recover.js';
import { loadRulesFiles, watchRules } from './service/rules-watcher.js';
import { Serial } from './service/serial.js';
import { detectorSettings } from './service/settings.js';
import { SnapshotStore } from './service/snapshot-store.js';
import { setStartPosition } from './service/start-position.js';

// Wiring only: config, logger, lifecycle, clients, state, rules, then the loop.

const config = loadConfigOrExit(detectorSettings, { ownPrefix: 'DETECTOR_' });
const log = createLogger('detector', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });
const lifecycle = createLifecycle(log, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
lifecycle.handleSignals();
const metrics = createStageMetrics('detector');
const detectorMetrics = createDetectorMetrics(metrics.registry);
const health = new WriteHealth({
  stage: 'detector',
  notReadyAfterMs: config.DETECTOR_NOT_READY_AFTER_MS,
  registry: metrics.registry,
});

function exit(code: number, err: unknown, msg: string): never {
  log.fatal({ err }, msg);
  log.flush();
  process.exit(code);
}

async function main(): Promise<void> {
  const rules = loadRulesFiles(config.DETECTOR_RULES_FILES);
  if (!rules.ok) {
    for (const e of rules.errors) process.stderr.write(`${e.code} ${e.file}:${e.line ?? '?'} ${e.message}\n`);
    exit(78, undefined, 'rules failed to load (AT_ERR_RULES_INVALID)');
  }

  const store = new SnapshotStore(config.DETECTOR_STATE_DIR);
  let stored = store.read();
  if (stored && stored.topic !== config.KAFKA_TOPIC_EVENTS) {
    log.warn({ snapshotTopic: stored.topic }, 'snapshot is of another topic; starting without it');
    stored = undefined;
  }

  const admin = createClickHouseAdmin(config, 'detector', log);
  await migrate(admin, { database: config.CLICKHOUSE_DATABASE, log });
  await admin.close();
  const clickhouse = createClickHouse(config, 'detector', undefined, log.child({}, { level: 'fatal' }));
  lifecycle.onStop('clickhouse', () => clickhouse.close());

  const kafka = createKafka(config, log, 'detector');
  await ensureTopics(
    kafka,
    [config.KAFKA_TOPIC_EVENTS, config.KAFKA_TOPIC_ALERTS, config.KAFKA_TOPIC_DLQ],
    config.KAFKA_TOPIC_PARTITIONS,
  );
  const producer = createStageProducer(kafka);
  await producer.connect();
  lifecycle.onStop('producer', () => producer.disconnect());

  const publisher = new AlertPublisher({
    producer,
    clickhouse,
    topic: config.KAFKA_TOPIC_ALERTS,
    dlqTopic: config.KAFKA_TOPIC_DLQ,
    metrics,
    detectorMetrics,
    log,
    health,
    giveUp: () => lifecycle.stopping,
  });
  const detector = createDetector({
    rules: rules.ruleSet,
    config: config.DETECTOR_LINK_BASE_URL ? { link_base_url: config.DETECTOR_LINK_BASE_URL } : {},
    ...(stored ? { snapshot: stored.detector } : {}),
  });
  const positions = await setStartPosition({
    kafka,
    groupId: config.DETECTOR_CONSUMER_GROUP,
    topic: config.KAFKA_TOPIC_EVENTS,
    snapshotOffsets: stored?.offsets,
    startFrom: config.DETECTOR_START_FROM,
    log,
    timeoutMs: config.DETECTOR_SESSION_TIMEOUT_MS * 3,
  });
  log.info(
    {
      snapshot: stored ? new Date(stored.written_at_ms).toISOString() : null,
      tasks: stored?.detector.tasks.length ?? 0,
      positions: Object.fromEntries([...positions].map(([p, o]) => [p, String(o)])),
    },
    stored ? 'state restored from snapshot' : `no snapshot; starting from ${config.DETECTOR_START_FROM}`,
  );

  if (stored) {
    // After setStartPosition: a killed predecessor has left the group by now, so its last
    // background insert is no longer in flight when the table is asked.
    const since = stored.written_at_ms - config.DETECTOR_SUPPRESS_MARGIN_MS;
    const onTopic = await alertsOnTopicSince({
      kafka,
      topic: config.KAFKA_TOPIC_ALERTS,
      sinceMs: since,
      groupPrefix: config.DETECTOR_CONSUMER_GROUP,
      log,
      timeoutMs: config.DETECTOR_SESSION_TIMEOUT_MS * 6,
    });
    const alertsRead = new AlertsRepository({
      client: clickhouse,
      database: config.CLICKHOUSE_DATABASE,
      caller: 'detector',
    });
    const inTable = await alertsRead.idsAmong(ALL_TENANTS, [...onTopic.keys()]);
    const missing = [...onTopic.values()].filter((a) => !inTable.has(a.alert_id));
    await publisher.storeRecovered(missing);
    const ids = await alertsRead.idsSince(ALL_TENANTS, since);
    publisher.suppress(ids);
    publisher.suppress(onTopic.keys());
    log.info(
      {
        on_topic: onTopic.size,
        stored_from_topic: missing.length,
        in_table: ids.length,
        since: new Date(since).toISOString(),
      },
      'alerts published since the snapshot will not be sent again',
    );
  }

  const serial = new Serial();
  const watcher = watchRules({
    paths: config.DETECTOR_RULES_FILES,
    apply: (r) => serial.run(() => detector.setRules(r)),
    log,
    onResult: (ok) => {
      detectorMetrics.rulesReloads.inc({ result: ok ? 'ok' : 'rejected' });
      if (!ok) metrics.errors.inc({ stage: 'detector', code: 'AT_ERR_RULES_INVALID' });
    },
  });
  lifecycle.onStop('rules-watcher', () => watcher.close());

  const loop = createDetectorLoop({
    kafka,
    detector,
    publisher,
    store,
    serial,
    log,
    metrics,
    detectorMetrics,
    positions,
    health,
    settings: {
      topic: config.KAFKA_TOPIC_EVENTS,
      groupId: config.DETECTOR_CONSUMER_GROUP,
      sessionTimeoutMs: config.DETECTOR_SESSION_TIMEOUT_MS,
      tickIntervalMs: config.DETECTOR_TICK_INTERVAL_MS,
      snapshotIntervalMs: config.DETECTOR_SNAPSHOT_INTERVAL_MS,
    },
    // State now holds alerts that were not published: exit so a restart replays from the snapshot.
    onFatal: (err) => exit(70, err, 'alerts could not be published; exiting without a snapshot'),
  });
  // Reverse order on shutdown: stop intake, finish the batch and publish, snapshot, commit, leave.
  lifecycle.onStop('consumer', async () => {
    await loop.stop();
    log.info({ suppressed: publisher.suppressedCount }, 'replayed alerts skipped as already published');
  });
  await loop.start();

  if (config.DETECTOR_METRICS_PORT > 0) {
    const server = await serveMetrics(metrics.registry, {
      port: config.DETECTOR_METRICS_PORT,
      host: config.DETECTOR_METRICS_HOST,
      token: config.DETECTOR_METRICS_TOKEN,
      healthy: () => loop.healthy(),
      // In the consumer group and writing: platform/kafka/runner.ts.
      ready: () => loop.ready(),
      admin: {
        token: config.DETECTOR_ADMIN_TOKEN,
        onError: (err, action) => {
          metrics.errors.inc({ stage: 'detector', code: 'AT_ERR_INTERNAL' });
          log.error({ err, action }, 'admin action failed');
        },
        actions: {
          // The same reload a file change or SIGHUP starts; a rejected set keeps the running rules.
          'rules-reload': async () => {
            if (await watcher.reload('admin request')) return { status: 200, body: { applied: true } };
            const load = loadRulesFiles(config.DETECTOR_RULES_FILES);
            const problems = load.ok ? [] : load.errors.slice(0, 20);
            return {
              status: 422,
              body: {
                applied: false,
                code: 'AT_ERR_RULES_INVALID',
                errors: problems.map((e) => ({
                  code: e.code,
                  file: e.file,
                  line: e.line,
                  message: e.message,
                })),
              },
            };
          },
        },
      },
    });
    lifecycle.onStop('metrics', () => new Promise<void>((r) => server.close(() => r())));
  }
  log.info(
    {
      topic: config.KAFKA_TOPIC_EVENTS,
      alerts: config.KAFKA_TOPIC_ALERTS,
      rules: rules.ruleSet.rules.length,
    },
    'detector started',
  );
}

main().catch((err) => exit(1, err, 'detector failed to start'));
