// First: kafkajs must find the lean codecs in its module cache when it loads (lean-codecs.ts).
import '../platform/kafka/lean-codecs.js';
import { createClickHouse } from '../platform/clickhouse/client.js';
import { createReadLayer } from '../platform/clickhouse/read/index.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createKafka } from '../platform/kafka/client.js';
import { createProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { KeyStore, watchKeysFile } from '../platform/keys/index.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { createAlertStatusWriter } from './alert-status/writer.js';
import { buildApi } from './app.js';
import { apiConfigShape } from './config.js';
import { detectorRulesReload } from './routes/rules.js';

// Wiring only: config → logger → ClickHouse read layer → API keys → Kafka producer (alert
// status) → app → listen; stops run in reverse. It runs no migrations (the ingester and
// detector own them).
const config = loadConfigOrExit(apiConfigShape, { ownPrefix: 'API_' });
const logger = createLogger('api', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });
const lifecycle = createLifecycle(logger, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
lifecycle.handleSignals();

const client = createClickHouse(config, 'api', undefined, logger);
lifecycle.onStop('clickhouse client', () => client.close());
const read = createReadLayer({
  client,
  database: config.CLICKHOUSE_DATABASE,
  caller: 'api',
  maxExecutionS: config.API_QUERY_TIMEOUT_S,
});

const keys = KeyStore.fromFile(config.API_KEYS_FILE, 'api');
if (keys.size === 0) {
  logger.warn(
    { file: config.API_KEYS_FILE },
    'no API keys: every request will get 401 (agenttrail keys create --tenant <t> --role analyst)',
  );
}
const keysWatcher = watchKeysFile({ path: config.API_KEYS_FILE, keys, log: logger });
lifecycle.onStop('keys watcher', () => keysWatcher.close());

// Acknowledge / resolve produce a status record (acks=all) the alerter follows up on. Reads
// never wait for Kafka (an investigation must work while Kafka is down): the producer connects
// in the background, and until it has, acknowledge/resolve answer 503 AT_ERR_KAFKA_UNAVAILABLE.
const kafka = createKafka(config, logger, 'api');
const producer = createProducer(kafka);
let stopping = false;
lifecycle.onStop('kafka producer', async () => {
  stopping = true;
  await producer.disconnect();
});
void (async () => {
  for (let attempt = 0; !stopping; attempt++) {
    try {
      await ensureTopics(kafka, [config.KAFKA_TOPIC_ALERT_STATUS], config.KAFKA_TOPIC_PARTITIONS);
      await producer.connect();
      logger.info(
        { topic: config.KAFKA_TOPIC_ALERT_STATUS },
        'kafka producer connected (acknowledge/resolve)',
      );
      return;
    } catch (err) {
      logger.warn(
        { err: (err as Error).message, attempt },
        'Kafka not reachable: acknowledge/resolve answer 503 until it is; reads are unaffected',
      );
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** attempt)).unref());
    }
  }
})();
const alertStatus = createAlertStatusWriter({
  producer,
  topic: config.KAFKA_TOPIC_ALERT_STATUS,
  clickhouse: client,
  database: config.CLICKHOUSE_DATABASE,
});

const app = await buildApi({
  config,
  keys,
  read,
  logger,
  ready: {
    async check() {
      const r = await client.ping();
      return r.success ? { ok: true } : { ok: false, reason: 'ClickHouse does not answer' };
    },
  },
  alertStatus,
  ...(config.API_DETECTOR_ADMIN_URL && config.API_DETECTOR_ADMIN_TOKEN
    ? { reloadRules: detectorRulesReload(config.API_DETECTOR_ADMIN_URL, config.API_DETECTOR_ADMIN_TOKEN) }
    : {}),
  keyFiles: {
    apiKeysFile: config.API_KEYS_FILE,
    ...(config.API_COLLECTOR_KEYS_FILE ? { collectorKeysFile: config.API_COLLECTOR_KEYS_FILE } : {}),
  },
});
lifecycle.onStop('http server', () => app.close());
const address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
logger.info({ address, keys: keys.size, database: config.CLICKHOUSE_DATABASE }, 'api listening');
