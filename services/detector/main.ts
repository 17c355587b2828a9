// First: kafkajs must find the lean codecs in its module cache when it loads (lean-codecs.ts).
import '../platform/kafka/lean-codecs.js';
import { parseDocument, readDocument } from '../platform/config-file.js';
import { runStage } from '../platform/stage/run-stage.js';
import { DetectorConfig, type DetectorConfigInput } from './config.js';
import { createDetector } from './engine.js';
import { detectorHandler } from './io/consume.js';
import { createDetectorMetrics } from './io/metrics.js';
import { AlertPublisher } from './io/publish.js';
import { readSnapshot, resumeFrom } from './io/restart.js';
import { loadRulesFiles, watchRules } from './io/rules-watcher.js';
import { Serial } from './io/serial.js';
import { detectorSettings } from './io/settings.js';
import { SignalBuffer } from './io/signal-rows.js';
import { SnapshotStore } from './io/snapshot-store.js';

// The detector's own parts on the stage bootstrap (platform/stage/run-stage.ts): rules and the
// snapshot before any client, then state, restart recovery (io/restart.ts), the rules
// watcher and its handler.

runStage({
  name: 'detector',
  prefix: 'DETECTOR_',
  shape: detectorSettings,
  topics: (c) => [c.KAFKA_TOPIC_EVENTS, c.KAFKA_TOPIC_ALERTS, c.KAFKA_TOPIC_DLQ],
  adminToken: (c) => c.DETECTOR_ADMIN_TOKEN,
  prepare({ config, log, exit }) {
    const rules = loadRulesFiles(config.DETECTOR_RULES_FILES);
    if (!rules.ok) {
      for (const e of rules.errors)
        process.stderr.write(`${e.code} ${e.file}:${e.line ?? '?'} ${e.message}\n`);
      return exit(78, undefined, 'rules failed to load (AT_ERR_RULES_INVALID)');
    }
    let engine: DetectorConfigInput = {};
    try {
      if (config.DETECTOR_CONFIG_FILE) {
        const path = config.DETECTOR_CONFIG_FILE;
        engine = parseDocument(DetectorConfig, readDocument(path), path);
      }
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return exit(78, undefined, 'DETECTOR_CONFIG_FILE is invalid (AT_ERR_CONFIG_INVALID)');
    }
    if (config.DETECTOR_LINK_BASE_URL) engine = { ...engine, link_base_url: config.DETECTOR_LINK_BASE_URL };
    const store = new SnapshotStore(config.DETECTOR_STATE_DIR);
    return {
      ruleSet: rules.ruleSet,
      engine,
      store,
      stored: readSnapshot(store, config.KAFKA_TOPIC_EVENTS, log),
    };
  },
  async start(ctx, { ruleSet, engine, store, stored }) {
    const { config, log, lifecycle, metrics, health, clickhouse, kafka, producer } = ctx;
    const detectorMetrics = createDetectorMetrics(metrics.registry);
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
    const signals = new SignalBuffer();
    const detector = createDetector({
      rules: ruleSet,
      config: engine,
      onSignal: signals.push,
      ...(stored ? { snapshot: stored.detector } : {}),
    });
    const positions = await resumeFrom(stored, {
      kafka,
      clickhouse,
      publisher,
      log,
      settings: {
        eventsTopic: config.KAFKA_TOPIC_EVENTS,
        alertsTopic: config.KAFKA_TOPIC_ALERTS,
        groupId: config.DETECTOR_CONSUMER_GROUP,
        database: config.CLICKHOUSE_DATABASE,
        startFrom: config.DETECTOR_START_FROM,
        sessionTimeoutMs: config.DETECTOR_SESSION_TIMEOUT_MS,
        suppressMarginMs: config.DETECTOR_SUPPRESS_MARGIN_MS,
      },
    });

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

    // Registered before the consumer, so it runs after the consumer stopped.
    lifecycle.onStop('replay-report', () =>
      log.info({ suppressed: publisher.suppressedCount }, 'replayed alerts skipped as already published'),
    );

    // State now holds alerts that were not published when its handler fails: exit (70) so a
    // restart replays from the snapshot.
    ctx.consume(
      { topic: config.KAFKA_TOPIC_EVENTS, keepRevoked: true },
      detectorHandler({
        detector,
        publisher,
        signals,
        store,
        serial,
        log,
        metrics,
        detectorMetrics,
        positions,
        settings: {
          topic: config.KAFKA_TOPIC_EVENTS,
          tickIntervalMs: config.DETECTOR_TICK_INTERVAL_MS,
          snapshotIntervalMs: config.DETECTOR_SNAPSHOT_INTERVAL_MS,
        },
      }),
      'alerts could not be published; exiting without a snapshot',
    );

    return {
      fields: {
        topic: config.KAFKA_TOPIC_EVENTS,
        alerts: config.KAFKA_TOPIC_ALERTS,
        rules: ruleSet.rules.length,
      },
      admin: {
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
              errors: problems.map((e) => ({ code: e.code, file: e.file, line: e.line, message: e.message })),
            },
          };
        },
      },
    };
  },
});
