// First: kafkajs must find the lean codecs in its module cache when it loads (lean-codecs.ts).
import '../platform/kafka/lean-codecs.js';
import cluster from 'node:cluster';
import { loadConfigOrExit } from '../platform/config.js';
import { createKafka } from '../platform/kafka/client.js';
import { createProducer } from '../platform/kafka/producer.js';
import { ensureTopics } from '../platform/kafka/topics.js';
import { createLifecycle } from '../platform/lifecycle.js';
import { createLogger } from '../platform/logger.js';
import { buildApp } from './app.js';
import { checkGatewayConfig, gatewayConfigShape } from './config.js';
import { KeyStore } from './keys.js';
import { watchKeysFile } from './keys-watcher.js';
import { kafkaSink } from './sink.js';

// Wiring only: config → logger → Kafka producer → app → listen; stops run in reverse.
const config = loadConfigOrExit(gatewayConfigShape, { ownPrefix: 'GATEWAY_' });
const problem = checkGatewayConfig(config);
if (problem) {
  process.stderr.write(`AT_ERR_CONFIG_INVALID: invalid configuration: ${problem}\n`);
  process.exit(78);
}
const logger = createLogger('gateway', { level: config.LOG_LEVEL, instance: config.INSTANCE_ID });

// GATEWAY_WORKERS > 1: this process only forks the workers (each runs everything below with its
// own producer; the kernel spreads connections over them) and forwards SIGINT/SIGTERM.
// Measured on the shared 2-core bench machine (load average 7-9 from other benchmarks; bench
// defaults, BENCH_GATEWAY_WORKERS=1 vs 2, two interleaved pairs): 6.5k/8.7k vs 9.0k/12.6k events/s,
// CPU per event unchanged (80-91 vs 81-96 µs). The gain is a bigger share of a contended CPU,
// not cheaper events, and it makes the per-key rate limit per process (up to N times the setting
// in aggregate), so the default stays 1: set it where the gateway has cores of its own.
if (config.GATEWAY_WORKERS > 1 && cluster.isPrimary) {
  await runPrimary(config.GATEWAY_WORKERS);
} else {
  await runWorker();
}

async function runPrimary(workers: number): Promise<void> {
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    // A worker that dies is not replaced behind the operator's back: stop all and exit non-zero,
    // so the supervisor restarts the gateway as a whole.
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker exited; stopping');
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exitCode = 1;
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
    });
  }
  logger.info({ workers }, 'gateway primary: workers forked');
}

async function runWorker(): Promise<void> {
  const lifecycle = createLifecycle(logger, { timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  lifecycle.handleSignals();

  const keys = KeyStore.fromFile(config.GATEWAY_KEYS_FILE);
  if (keys.size === 0) {
    logger.warn(
      { file: config.GATEWAY_KEYS_FILE },
      'no API keys: every request will get 401 (agenttrail keys create --tenant <t>)',
    );
  }
  // `keys create` / `keys revoke` apply without a restart; a bad file keeps the keys in use.
  const keysWatcher = watchKeysFile({ path: config.GATEWAY_KEYS_FILE, keys, log: logger });
  lifecycle.onStop('keys watcher', () => keysWatcher.close());

  const kafka = createKafka(config, logger, 'gateway');
  await ensureTopics(kafka, [config.KAFKA_TOPIC_EVENTS], config.KAFKA_TOPIC_PARTITIONS);
  const producer = createProducer(kafka);
  // Readiness after a failed send comes back when Kafka answers again, traffic or not.
  const admin = kafka.admin();
  const sink = kafkaSink(producer, config.KAFKA_TOPIC_EVENTS, config.GATEWAY_PRODUCE_TIMEOUT_MS, {
    maxFlushBytes: config.GATEWAY_KAFKA_FLUSH_BYTES,
    probe: async () => {
      await admin.describeCluster();
    },
  });
  await producer.connect();
  await admin.connect();
  lifecycle.onStop('kafka producer', () => producer.disconnect());
  lifecycle.onStop('kafka admin', () => admin.disconnect());

  const app = await buildApp({ config, keys, sink, logger });
  // Registered last so it runs first: stop taking requests, let in-flight ones finish (their
  // produce is awaited), then the producer disconnects.
  lifecycle.onStop('http server', () => app.close());
  const address = await app.listen({ host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
  logger.info({ address, keys: keys.size, topic: config.KAFKA_TOPIC_EVENTS }, 'gateway listening');
}
