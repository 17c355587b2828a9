import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_GROUP_WAIT_MS, type RoutesFileInput } from '../../schemas/index.js';
import { createAlertStatusWriter } from '../../services/api/alert-status/writer.js';
import { buildApi } from '../../services/api/app.js';
import { createClickHouse } from '../../services/platform/clickhouse/client.js';
import { createReadLayer } from '../../services/platform/clickhouse/read/index.js';
import { createProducer } from '../../services/platform/kafka/producer.js';
import { ensureTopics } from '../../services/platform/kafka/topics.js';
import { createKey, KeyStore } from '../../services/platform/keys/index.js';
import { randomFreePort } from '../../stack/index.js';
import { type ServiceName, type ServiceProcess, spawnService, waitHealthy } from './service.js';

// The whole pipeline on an existing Kafka + ClickHouse, as child processes: gateway, ingester,
// detector, alerter. Used by `agenttrail demo`, the end-to-end test and the alert-latency
// benchmark. Everything a run touches is its own: topics and consumer groups named after the
// run, one ClickHouse database, a work dir holding the API key file, the routes file, the
// detector's state and every service's log. So a run never collides with tests or another run.

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Alerter grouping window (schemas/route.ts); it adds directly to page latency. */
  groupWaitMs?: number;
  ratePerS?: number;
  burst?: number;
  concurrency?: number;
}

export interface PipelineOptions {
  brokers: string[];
  clickhouseUrl: string;
  database: string;
  /** Unique per run: prefix of topics and consumer groups (letters, digits, `_`, `.`, `-`). */
  run: string;
  workDir: string;
  tenant: string;
  webhook: WebhookTarget;
  partitions?: number;
  /** Extra environment per service (tuning knobs). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  readyTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface Pipeline {
  gatewayUrl: string;
  /** Collector API key for `tenant` (minted for this run, stored hashed in the work dir). */
  apiKey: string;
  /** The query API (in this process, not a child): timelines, history, alerts; alert links open it. */
  queryApiUrl: string;
  /** API key (role responder) for `tenant` on the query API, minted for this run. */
  queryApiKey: string;
  tenant: string;
  database: string;
  topics: { events: string; alerts: string; alertStatus: string; dlq: string };
  services: ServiceProcess[];
  /** Prometheus text endpoint of each service (the gateway's takes the API key as bearer). */
  metricsUrls: Record<ServiceName, string>;
  /** Throws (with the log tail) if any service has exited. */
  assertRunning(): void;
  /** SIGTERM every service (gateway first: stop intake), wait; exit codes by service. */
  stop(): Promise<Record<string, number>>;
  /** Remove this run's topics (its data stays in ClickHouse). */
  deleteTopics(): Promise<void>;
}

const WEBHOOK_SECRET_ENV = 'PIPELINE_WEBHOOK_SECRET';

function routesFile(w: WebhookTarget): RoutesFileInput {
  return {
    version: 1,
    destinations: {
      webhook: {
        type: 'webhook',
        url: w.url,
        secret_env: WEBHOOK_SECRET_ENV,
        group_wait_ms: w.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS,
        rate_per_s: w.ratePerS ?? 100,
        burst: w.burst ?? 100,
        concurrency: w.concurrency ?? 8,
        timeout_ms: 5_000,
      },
    },
    routes: [{ name: 'all', destinations: ['webhook'] }],
  };
}

/**
 * The query API for a run, in this process: cheap (one fastify app, a ClickHouse client and a
 * Kafka producer for acknowledge/resolve, no fifth child process), on the port the detector's
 * alert links already name. Its key file is the run's own.
 */
async function startQueryApi(o: PipelineOptions, port: number, topic: string) {
  const keysFile = join(o.workDir, 'api-keys.json');
  const { key } = createKey(keysFile, o.tenant, `pipeline ${o.run}`, 'responder');
  const client = createClickHouse(
    {
      CLICKHOUSE_URL: o.clickhouseUrl,
      CLICKHOUSE_DATABASE: o.database,
      CLICKHOUSE_USER: 'default',
      CLICKHOUSE_PASSWORD: '',
    },
    'api',
  );
  const producer = createProducer(
    new Kafka({ clientId: 'agenttrail-pipeline-api', brokers: o.brokers, logLevel: logLevel.NOTHING }),
  );
  await producer.connect();
  const app = await buildApi({
    config: { API_MAX_PAGE: 1000, API_METRICS_TOKEN: undefined },
    keys: KeyStore.fromFile(keysFile, 'api'),
    read: createReadLayer({ client, database: o.database, caller: 'api' }),
    alertStatus: createAlertStatusWriter({ producer, topic, clickhouse: client, database: o.database }),
  });
  await app.listen({ host: '127.0.0.1', port });
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    async close() {
      await app.close();
      await producer.disconnect();
      await client.close();
    },
  };
}

export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const log = o.log ?? (() => {});
  const partitions = o.partitions ?? 6;
  mkdirSync(o.workDir, { recursive: true });
  const keysFile = join(o.workDir, 'gateway-keys.json');
  const { key: apiKey } = createKey(keysFile, o.tenant, `pipeline ${o.run}`);
  const routesPath = join(o.workDir, 'routes.json');
  writeFileSync(routesPath, `${JSON.stringify(routesFile(o.webhook), null, 2)}\n`);

  const topics = {
    events: `${o.run}.events`,
    alerts: `${o.run}.alerts`,
    alertStatus: `${o.run}.alerts.status`,
    dlq: `${o.run}.dlq`,
  };
  // The run's topics up front: services creating them concurrently race each other.
  await ensureTopics(
    // NOTHING: a broker that has just started makes kafkajs log each metadata retry as an error.
    new Kafka({ clientId: 'agenttrail-pipeline', brokers: o.brokers, logLevel: logLevel.NOTHING }),
    Object.values(topics),
    partitions,
  );

  const ports = { gateway: 0, ingester: 0, detector: 0, alerter: 0 };
  const taken: number[] = [];
  for (const name of Object.keys(ports) as ServiceName[]) {
    ports[name] = await randomFreePort(taken);
    taken.push(ports[name]);
  }
  const apiPort = await randomFreePort(taken);
  const common = {
    KAFKA_BROKERS: o.brokers.join(','),
    KAFKA_TOPIC_EVENTS: topics.events,
    KAFKA_TOPIC_ALERTS: topics.alerts,
    KAFKA_TOPIC_ALERT_STATUS: topics.alertStatus,
    KAFKA_TOPIC_DLQ: topics.dlq,
    KAFKA_TOPIC_PARTITIONS: String(partitions),
    CLICKHOUSE_URL: o.clickhouseUrl,
    CLICKHOUSE_DATABASE: o.database,
    LOG_LEVEL: 'info',
  };
  const envs: Record<ServiceName, Record<string, string>> = {
    gateway: {
      GATEWAY_PORT: String(ports.gateway),
      GATEWAY_KEYS_FILE: keysFile,
      GATEWAY_FINGERPRINT_KEY: randomBytes(24).toString('base64url'),
    },
    ingester: {
      INGESTER_METRICS_PORT: String(ports.ingester),
      INGESTER_CONSUMER_GROUP: `${o.run}.ingester`,
    },
    detector: {
      DETECTOR_METRICS_PORT: String(ports.detector),
      DETECTOR_STATE_DIR: join(o.workDir, 'detector-state'),
      DETECTOR_CONSUMER_GROUP: `${o.run}.detector`,
      DETECTOR_START_FROM: 'earliest',
      // Alert links open this run's query API (started below, on this port).
      DETECTOR_LINK_BASE_URL: `http://127.0.0.1:${apiPort}`,
    },
    alerter: {
      ALERTER_METRICS_PORT: String(ports.alerter),
      ALERTER_ROUTES_FILE: routesPath,
      ALERTER_CONSUMER_GROUP: `${o.run}.alerter`,
      // A fresh group on a fresh topic: read it all, so an alert raised before the alerter
      // finished joining is still paged.
      ALERTER_START_FROM: 'earliest',
      [WEBHOOK_SECRET_ENV]: o.webhook.secret,
    },
  };

  const services: ServiceProcess[] = [];
  let api: Awaited<ReturnType<typeof startQueryApi>> | undefined;
  const stop = async (): Promise<Record<string, number>> => {
    const codes: Record<string, number> = {};
    // The gateway first, so nothing new enters while the consumers drain and commit.
    const gateway = services.find((s) => s.name === 'gateway');
    if (gateway) codes.gateway = await gateway.stop();
    await api?.close();
    await Promise.all(
      services
        .filter((s) => s !== gateway)
        .map(async (s) => {
          codes[s.name] = await s.stop();
        }),
    );
    return codes;
  };
  try {
    // All four start at once (migrations are idempotent and safe to run concurrently).
    for (const name of Object.keys(envs) as ServiceName[]) {
      services.push(spawnService(name, { ...common, ...envs[name], ...o.env?.[name] }, o.workDir));
    }
    const timeout = o.readyTimeoutMs ?? 60_000;
    await Promise.all(
      services.map(async (s) => {
        const path = s.name === 'gateway' ? '/readyz' : '/healthz';
        await waitHealthy(s, `http://127.0.0.1:${ports[s.name]}${path}`, timeout);
        log(`${s.name} ready (log ${s.logFile})`);
      }),
    );
    api = await startQueryApi(o, apiPort, topics.alertStatus);
    log(`query api ready (${api.url})`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    apiKey,
    queryApiUrl: api!.url,
    queryApiKey: api!.key,
    tenant: o.tenant,
    database: o.database,
    topics,
    services,
    metricsUrls: {
      gateway: `http://127.0.0.1:${ports.gateway}/metrics`,
      ingester: `http://127.0.0.1:${ports.ingester}/metrics`,
      detector: `http://127.0.0.1:${ports.detector}/metrics`,
      alerter: `http://127.0.0.1:${ports.alerter}/metrics`,
    },
    assertRunning() {
      for (const s of services) {
        const code = s.exitCode();
        if (code !== undefined) {
          throw new Error(`${s.name} exited with code ${code}; last log lines (${s.logFile}):\n${s.tail()}`);
        }
      }
    },
    stop,
    async deleteTopics() {
      const admin = new Kafka({
        clientId: 'agenttrail-pipeline',
        brokers: o.brokers,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: Object.values(topics) });
      } finally {
        await admin.disconnect();
      }
    },
  };
}
