// First: kafkajs must find the lean codecs in its module cache when it loads (lean-codecs.ts).
import '../platform/kafka/lean-codecs.js';
import { sendDeadLetters } from '../platform/kafka/dead-letter.js';
import { runStage } from '../platform/stage/run-stage.js';
import { alerterConfig } from './config.js';
import { alertHandler, decodeStatus } from './consume.js';
import { Deliverer } from './deliver.js';
import { clickHouseStore, DeliveryLog } from './delivery-log.js';
import { createAlerterMetrics } from './metrics.js';
import { loadRouting } from './routes.js';
import { httpSender } from './send.js';

// The alerter's own parts on the stage bootstrap (platform/stage/run-stage.ts): routes before
// any client, then the delivery log, the deliverer and its two handlers.

runStage({
  name: 'alerter',
  prefix: 'ALERTER_',
  // The secrets a routes file names (secret_env, url_env) are the operator's variables and are
  // often called ALERTER_*, so an unknown ALERTER_ name is not a typo here.
  strictPrefix: false,
  shape: alerterConfig,
  topics: (c) => [c.KAFKA_TOPIC_ALERTS, c.KAFKA_TOPIC_ALERT_STATUS, c.KAFKA_TOPIC_DLQ],
  async prepare({ config, log }) {
    // Routes refer to secrets by environment variable name; they are resolved here, once.
    const routing = await loadRouting(config.ALERTER_ROUTES_FILE, process.env);
    const destinations = [...routing.destinations.values()].map((d) => ({ name: d.name, type: d.type }));
    log.info({ destinations, routes: routing.routes.length }, 'routes loaded');
    return routing;
  },
  async start(ctx, routing) {
    const { config, log, lifecycle, metrics, health, clickhouse, producer } = ctx;
    const store = clickHouseStore(clickhouse, config.CLICKHOUSE_DATABASE);
    const deliveryLog = new DeliveryLog(store, log.child({ component: 'delivery-log' }), {
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
            log.warn({ err: (err as Error).message, attempt }, 'DLQ produce failed; retrying');
            await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * attempt)));
          }
        }
      },
    });
    const deliverer = new Deliverer({
      routing,
      send: httpSender,
      log: deliveryLog,
      logger: log,
      metrics: createAlerterMetrics(metrics.registry),
      timelineBaseUrl: config.ALERTER_TIMELINE_BASE_URL,
    });

    // Two handlers, one deliverer and one delivery log: alerts are paged, status records (a
    // responder's acknowledge or resolve, from the API) followed up. Own group for the status
    // topic: members of one group subscribed to different topics confuse kafkajs' assignment.
    const handle = (topic: string, more: Pick<Parameters<typeof alertHandler>[0], 'decode' | 'checkAll'>) =>
      alertHandler({
        ...more,
        producer,
        topic,
        dlqTopic: config.KAFKA_TOPIC_DLQ,
        routing,
        deliverer,
        store,
        metrics,
        logger: log,
        maxInFlight: config.ALERTER_MAX_IN_FLIGHT,
      });
    const runnerSettings = {
      fromBeginning: config.ALERTER_START_FROM === 'earliest',
      commitIntervalMs: config.ALERTER_COMMIT_INTERVAL_MS,
    };
    const consumers = [
      ctx.consume(
        { ...runnerSettings, topic: config.KAFKA_TOPIC_ALERTS },
        handle(config.KAFKA_TOPIC_ALERTS, {}),
      ),
      ctx.consume(
        {
          ...runnerSettings,
          topic: config.KAFKA_TOPIC_ALERT_STATUS,
          groupId: `${config.ALERTER_CONSUMER_GROUP}.status`,
        },
        handle(config.KAFKA_TOPIC_ALERT_STATUS, { decode: decodeStatus, checkAll: true }),
      ),
    ];
    // Reverse order on shutdown: stop intake, finish in-flight pages, write the log; then each
    // consumer (registered above) commits what is final and leaves its group.
    lifecycle.onStop('delivery-log', () => deliveryLog.close());
    // Leave time within SHUTDOWN_TIMEOUT_MS for the log flush and the commit after the drain.
    lifecycle.onStop('deliveries', () => deliverer.drain(Math.floor(config.SHUTDOWN_TIMEOUT_MS * 0.6)));
    lifecycle.onStop('intake', async () => {
      await Promise.all(consumers.map((c) => c.pause()));
    });
    const fields = {
      topic: config.KAFKA_TOPIC_ALERTS,
      statusTopic: config.KAFKA_TOPIC_ALERT_STATUS,
      group: config.ALERTER_CONSUMER_GROUP,
    };
    return { fields };
  },
});
