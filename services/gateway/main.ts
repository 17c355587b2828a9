import { loadConfigOrExit } from '../platform/config.js';
import { createKafka } from '../platform/kafka/client.js';
import { createProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { buildApp } from './app.js';
import { checkGatewayConfig, gatewayConfigShape } from './config.js';
import { KeyStore } from './keys.js';
import { kafkaSink } from './sink.js';

// Wiring only: config → logger → Kafka producer → app → listen; stops run in reverse.
const config = loadConfigOrExit(gatewayConfigShape);
const problem = checkGatewayConfig(config);
if (problem) {
  process.stderr.write(`AT_ERR_CONFIG_INVALID: invalid configuration: ${problem}\n`);
  process.exit(78);
}
const logger = createLogger('gateway', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });
const lifecycle = createLifecycle(logger, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
lifecycle.handleSignals();

const keys = KeyStore.fromFile(config.GATEWAY_KEYS_FILE);
if (keys.size === 0) {
  logger.warn(
    { file: config.GATEWAY_KEYS_FILE },
    'no API keys: every request will get 401 (agenttrail keys create --tenant <t>)',
  );
}

const kafka = createKafka(config, logger, 'gateway');
await ensureTopics(kafka, [config.KAFKA_TOPIC_EVENTS], config.KAFKA_TOPIC_PARTITIONS);
const producer = createProducer(kafka);
const sink = kafkaSink(producer, config.KAFKA_TOPIC_EVENTS, config.GATEWAY_PRODUCE_TIMEOUT_MS);
await producer.connect();
lifecycle.onStop('kafka producer', () => producer.disconnect());

const app = await buildApp({ config, keys, sink, logger });
// Registered last so it runs first: stop taking requests, let in-flight ones finish (their
// produce is awaited), then the producer disconnects.
lifecycle.onStop('http server', () => app.close());
const address = await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
logger.info({ address, keys: keys.size, topic: config.KAFKA_TOPIC_EVENTS }, 'gateway listening');
