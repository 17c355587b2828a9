import type { ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';
import { type RetryPolicy, steadyBackoffMs } from '../backoff.js';
import { createClickHouse, createClickHouseAdmin } from '../clickhouse/client.js';
import { migrate } from '../clickhouse/migrate.js';
import {
  type ConfigShape,
  type clickhouseConfig,
  type commonConfig,
  type kafkaConfig,
  loadConfigOrExit,
} from '../config.js';
import { AgentTrailError } from '../errors.js';
import { createKafka, type KafkaClient } from '../kafka/client.js';
import { createStageProducer, type StageProducer } from '../kafka/producer.js';
import {
  createStageRunner,
  type HandlerFactory,
  type RunnerSettings,
  type StageRunner,
} from '../kafka/runner.js';
import { ensureTopics } from '../kafka/topics.js';
import { createLifecycle, type Lifecycle } from '../lifecycle.js';
import { createLogger, type Logger } from '../logger.js';
import { type AdminAnswer, createStageMetrics, type StageMetrics, serveMetrics } from '../metrics.js';
import { type Readiness, WriteHealth } from '../write-health.js';

// The one bootstrap of a Kafka stage (ingester, detector, alerter). A stage's main.ts names its
// settings and supplies only its own parts (`prepare`, `start`); the rest runs here, the same
// way for every stage:
//   config (parsed once; a bad one exits 78 naming the key) → logger → lifecycle and signals →
//   metrics and write health → the stage's `prepare` (what needs no client: rules, routes,
//   state) → /metrics, /healthz, /readyz (not ready until started) → migrations → ClickHouse
//   client → topics → producer → the stage's `start` (its handlers, on runners from
//   `consume`) → those runners start.
// Shutdown is the lifecycle's (reverse registration order): the consumers stop (intake, drain,
// commit, leave) before the producer and ClickHouse close; the metrics server goes last.

type Parsed<S extends ConfigShape> = Readonly<z.infer<z.ZodObject<S>>>;

/** Settings every stage declares under its own prefix (`INGESTER_METRICS_PORT`, …). */
type OwnSettings<P extends string> = Record<
  `${P}METRICS_PORT` | `${P}NOT_READY_AFTER_MS` | `${P}SESSION_TIMEOUT_MS`,
  number
> &
  Record<`${P}METRICS_HOST` | `${P}CONSUMER_GROUP`, string> &
  Partial<Record<`${P}METRICS_TOKEN`, string>>;

/** The configuration a stage bootstrap reads: the shared settings and the stage's own. */
export type StageConfig<P extends string> = Parsed<
  typeof commonConfig & typeof kafkaConfig & typeof clickhouseConfig
> &
  OwnSettings<P>;

/** A zod shape whose parsed values have at least the types of `T` (checked at compile time). */
type ShapeOf<T> = { [K in keyof T]-?: z.ZodType<T[K] | undefined> };

/** The stage's own settings the bootstrap reads, by the names `OwnSettings` guarantees. */
function ownSettings(config: object, prefix: string) {
  const c = config as Record<string, unknown>;
  return {
    metricsPort: c[`${prefix}METRICS_PORT`] as number,
    metricsHost: c[`${prefix}METRICS_HOST`] as string,
    metricsToken: c[`${prefix}METRICS_TOKEN`] as string | undefined,
    notReadyAfterMs: c[`${prefix}NOT_READY_AFTER_MS`] as number,
    consumerGroup: c[`${prefix}CONSUMER_GROUP`] as string,
    sessionTimeoutMs: c[`${prefix}SESSION_TIMEOUT_MS`] as number,
  };
}

/** What `prepare` has: no client yet. */
export interface StageBase<C> {
  config: C;
  log: Logger;
  lifecycle: Lifecycle;
  metrics: StageMetrics;
  health: WriteHealth;
  /** Log at fatal, flush, exit with `code` (70: state ahead of what is durable; 78: bad config). */
  exit(code: number, err: unknown, msg: string): never;
}

/** The runner settings a stage gives `consume`; group and session timeout default to its own. */
export type ConsumeSettings = Omit<RunnerSettings, 'groupId' | 'sessionTimeoutMs'> &
  Partial<Pick<RunnerSettings, 'groupId' | 'sessionTimeoutMs'>>;

/** What `start` has: the clients, and the runner factory. */
export interface StageContext<C> extends StageBase<C> {
  clickhouse: ClickHouseClient;
  kafka: KafkaClient;
  /** acks=all; disconnected at shutdown after the consumers stopped. */
  producer: StageProducer;
  /**
   * A runner of `handler` on `settings.topic`, in the stage's group; stopped at shutdown (step
   * "consumer": intake, drain, commit, leave) and started once `start` returned. Health and
   * readiness are every runner's. `fatal`: what the exit (70) says when the handler fails.
   */
  consume(settings: ConsumeSettings, handler: HandlerFactory, fatal?: string): StageRunner;
  /** A start-up step that needs ClickHouse or Kafka: waited for under `waitFor`, else run once. */
  untilUp<T>(what: string, step: () => Promise<T>): Promise<T>;
}

export interface StageSpec<P extends string, S extends ConfigShape, T> {
  /** The stage's name: logger `service`, metrics, ClickHouse `application`, Kafka client id. */
  name: string;
  /** The stage's own settings' prefix (`INGESTER_`). */
  prefix: P;
  shape: S & ShapeOf<StageConfig<P>>;
  /** Refuse an undeclared `<prefix>*` variable as a typo (default); false where the stage's own files name such variables. */
  strictPrefix?: boolean;
  /** Cross-field checks after the per-key parse; each problem names the key to fix. */
  check?(config: Parsed<S>): string[];
  /** Topics the stage needs (created when missing). */
  topics(config: Parsed<S>): string[];
  /** Passed to the migrations (the events table's TTL). */
  retentionDays?(config: Parsed<S>): number;
  /** Start-up steps that need ClickHouse or Kafka wait for them with this policy instead of exiting. */
  waitFor?(config: Parsed<S>): RetryPolicy;
  /** Bearer token of `POST /admin/<action>` on the metrics port; unset: no admin actions. */
  adminToken?(config: Parsed<S>): string | undefined;
  /** What needs no client, before any: a stage refuses to start here without touching the stack. */
  prepare?(base: StageBase<Parsed<S>>): T | Promise<T>;
  /** The stage's own parts: its handlers (`consume`) and stop steps. */
  start(ctx: StageContext<Parsed<S>>, prepared: T): Promise<StageStarted | undefined>;
}

export interface StageStarted {
  /** Admin actions (with `adminToken`). */
  admin?: Record<string, () => Promise<AdminAnswer>>;
  /** Fields of the "<name> started" line. */
  fields?: Record<string, unknown>;
}

/** Run a stage as this process: call once, from its main.ts. */
export function runStage<P extends string, S extends ConfigShape, T = undefined>(
  spec: StageSpec<P, S, T>,
): void {
  const { name, prefix } = spec;
  const shape: S = spec.shape;
  const config = loadConfigOrExit(shape, spec.strictPrefix === false ? {} : { ownPrefix: prefix });
  const shared = config as unknown as StageConfig<''>;
  const own = ownSettings(config, prefix);
  const problems = spec.check?.(config) ?? [];
  if (problems.length > 0) {
    process.stderr.write(`AT_ERR_CONFIG_INVALID: invalid configuration: ${problems.join('; ')}\n`);
    process.exit(78);
  }

  const log = createLogger(name, { level: shared.LOG_LEVEL, instance: shared.INSTANCE_ID });
  const lifecycle = createLifecycle(log, { timeoutMs: shared.SHUTDOWN_TIMEOUT_MS });
  lifecycle.handleSignals();
  const metrics = createStageMetrics(name);
  const health = new WriteHealth({
    stage: name,
    notReadyAfterMs: own.notReadyAfterMs,
    registry: metrics.registry,
  });
  const exit = (code: number, err: unknown, msg: string): never => {
    log.fatal({ err }, msg);
    log.flush();
    process.exit(code);
  };
  const base: StageBase<Parsed<S>> = { config, log, lifecycle, metrics, health, exit };
  const retry = spec.waitFor?.(config);

  async function untilUp<R>(what: string, step: () => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (!retry || lifecycle.stopping) throw err;
        if ((err as { code?: string }).code === 'AT_ERR_MIGRATION_FAILED') throw err;
        const delay = steadyBackoffMs(attempt, retry);
        log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  const runners: StageRunner[] = [];
  let started = false;
  const actions: Record<string, () => Promise<AdminAnswer>> = {};

  function readiness(): Readiness {
    if (!started) return { ok: false, reason: 'starting' };
    return runners.map((r) => r.ready()).find((r) => !r.ok) ?? { ok: true };
  }

  async function main(): Promise<void> {
    const prepared = (await spec.prepare?.(base)) as T;

    const port = own.metricsPort;
    if (port > 0) {
      const server = await serveMetrics(metrics.registry, {
        port,
        host: own.metricsHost,
        token: own.metricsToken,
        healthy: () => started && runners.every((r) => r.healthy()),
        // Every consumer in its group, and the stage's writes succeeding (platform/kafka/runner.ts).
        ready: readiness,
        admin: {
          token: spec.adminToken?.(config),
          actions,
          onError: (err, action) => {
            metrics.errors.inc({ stage: name, code: 'AT_ERR_INTERNAL' });
            log.error({ err, action }, 'admin action failed');
          },
        },
      });
      lifecycle.onStop('metrics', () => new Promise<void>((r) => server.close(() => r())));
    }

    // Each stage logs its own failed writes; the ClickHouse client's own lines would repeat them.
    const clientLog = log.child({}, { level: 'fatal' });
    const admin = createClickHouseAdmin(shared, name, clientLog);
    try {
      const retentionDays = spec.retentionDays?.(config);
      await untilUp('migrations', () =>
        migrate(admin, {
          database: shared.CLICKHOUSE_DATABASE,
          log,
          ...(retentionDays !== undefined ? { retentionDays } : {}),
        }),
      );
    } finally {
      await admin.close();
    }
    const clickhouse = createClickHouse(shared, name, undefined, clientLog);
    lifecycle.onStop('clickhouse', () => clickhouse.close());

    const kafka = createKafka(shared, log, name);
    await untilUp('topic check', () =>
      ensureTopics(kafka, spec.topics(config), shared.KAFKA_TOPIC_PARTITIONS),
    );
    const producer = createStageProducer(kafka);
    await untilUp('producer connect', () => producer.connect());
    lifecycle.onStop('producer', () => producer.disconnect());

    const ctx: StageContext<Parsed<S>> = {
      ...base,
      clickhouse,
      kafka,
      producer,
      untilUp,
      consume(settings, handler, fatal) {
        const runner = createStageRunner({
          kafka,
          log,
          health,
          handler,
          settings: {
            groupId: own.consumerGroup,
            sessionTimeoutMs: own.sessionTimeoutMs,
            ...settings,
          },
          onFatal: (err) => exit(70, err, fatal ?? `${name} failed; exiting so nothing later is committed`),
        });
        runners.push(runner);
        lifecycle.onStop('consumer', () => runner.stop());
        return runner;
      },
    };
    const result = await spec.start(ctx, prepared);
    Object.assign(actions, result?.admin);
    for (const runner of runners) await untilUp('consumer start', () => runner.start());
    started = true;
    log.info(result?.fields ?? {}, `${name} started`);
  }

  main().catch((err) => {
    if (err instanceof AgentTrailError) process.stderr.write(`${err.code}: ${err.message}\n`);
    exit(
      err instanceof AgentTrailError && err.code === 'AT_ERR_CONFIG_INVALID' ? 78 : 1,
      err,
      `${name} failed to start`,
    );
  });
}
