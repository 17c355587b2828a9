// First: kafkajs must find the lean codecs in its module cache when it loads (lean-codecs.ts).
import '../platform/kafka/lean-codecs.js';
import { runStage } from '../platform/stage/run-stage.js';
import { checkIngesterConfig, ingesterConfig } from './config.js';
import { ingestHandler } from './loop.js';
import { createEventWriter } from './writer.js';

// The ingester's own parts on the stage bootstrap (platform/stage/run-stage.ts): its writer and
// its handler. Start-up steps that need ClickHouse or Kafka wait for them instead of crash-looping.

runStage({
  name: 'ingester',
  prefix: 'INGESTER_',
  shape: ingesterConfig,
  check: checkIngesterConfig,
  topics: (c) => [c.KAFKA_TOPIC_EVENTS, c.KAFKA_TOPIC_DLQ],
  retentionDays: (c) => c.INGESTER_RETENTION_DAYS,
  waitFor: (c) => ({ initialMs: c.INGESTER_RETRY_INITIAL_MS, maxMs: c.INGESTER_RETRY_MAX_MS }),
  async start({ config, log, metrics, health, clickhouse, producer, consume }) {
    const retry = { initialMs: config.INGESTER_RETRY_INITIAL_MS, maxMs: config.INGESTER_RETRY_MAX_MS };
    const writer = createEventWriter(clickhouse, { retry, log: log.child({ component: 'writer' }), health });
    const settings = {
      dlqTopic: config.KAFKA_TOPIC_DLQ,
      maxRows: config.INGESTER_FLUSH_MAX_ROWS,
      maxBytes: config.INGESTER_FLUSH_MAX_BYTES,
      intervalMs: config.INGESTER_FLUSH_INTERVAL_MS,
      retry,
      insertMode: config.INGESTER_INSERT_MODE,
    };
    consume(
      {
        topic: config.KAFKA_TOPIC_EVENTS,
        heartbeatIntervalMs: config.INGESTER_HEARTBEAT_INTERVAL_MS,
        maxWaitTimeMs: Math.min(500, config.INGESTER_FLUSH_INTERVAL_MS),
        fetchMaxBytes: config.INGESTER_FETCH_MAX_BYTES,
        fetchMaxBytesPerPartition: config.INGESTER_FETCH_MAX_BYTES_PER_PARTITION,
      },
      ingestHandler({ producer, writer, log, metrics, health, settings }),
      'a flush failed without an outage to blame; exiting so nothing later is committed',
    );
    return {
      fields: {
        database: config.CLICKHOUSE_DATABASE,
        topic: config.KAFKA_TOPIC_EVENTS,
        insertMode: config.INGESTER_INSERT_MODE,
      },
    };
  },
});
