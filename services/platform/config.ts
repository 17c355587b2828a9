import { z } from 'zod';
import { AgentTrailError } from './errors.js';

// Configuration comes from environment variables, parsed once per process with one zod
// schema per stage, frozen and passed down. Nothing else reads process.env.
//
// Each schema's keys ARE the environment variable names, so an error names exactly the
// setting to fix, and README's configuration table is generated from the same schemas
// (`describeConfig`).

type Env = Record<string, string | undefined>;

/** Comma-separated list, e.g. KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9093. */
export const csv = (description: string, def: string[]) =>
  z
    .string()
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .default(def)
    .describe(description);

export const intFromEnv = (description: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def).describe(description);

export const boolFromEnv = (description: string, def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1')
    .describe(description);

/** Settings every stage shares. */
export const commonConfig = {
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  INSTANCE_ID: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('Instance name in logs and metrics (default: hostname:pid)'),
  SHUTDOWN_TIMEOUT_MS: intFromEnv('Deadline for a graceful drain on SIGINT/SIGTERM', 15_000, 100, 600_000),
};

/**
 * A stage's `<PREFIX>METRICS_PORT`, `_HOST` and `_TOKEN`: where its /metrics, /healthz and
 * /readyz listen (platform/stage/run-stage.ts serves them).
 */
export function metricsEndpointConfig<P extends string>(prefix: P, port: number) {
  return {
    [`${prefix}METRICS_PORT`]: intFromEnv(
      'Port of /metrics, /healthz and /readyz (0 = off)',
      port,
      0,
      65_535,
    ),
    [`${prefix}METRICS_HOST`]: z.string().min(1).default('127.0.0.1').describe('Address /metrics listens on'),
    [`${prefix}METRICS_TOKEN`]: z
      .string()
      .min(1)
      .optional()
      .describe('Bearer token required on /metrics, if set'),
  } as Record<`${P}METRICS_PORT`, ReturnType<typeof intFromEnv>> &
    Record<`${P}METRICS_HOST`, z.ZodDefault<z.ZodString>> &
    Record<`${P}METRICS_TOKEN`, z.ZodOptional<z.ZodString>>;
}

export const kafkaConfig = {
  KAFKA_BROKERS: csv('Kafka bootstrap brokers, comma separated', ['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('agenttrail').describe('kafkajs client id prefix'),
  KAFKA_TOPIC_EVENTS: z.string().min(1).default('agent.events').describe('Topic of agent events'),
  KAFKA_TOPIC_ALERTS: z.string().min(1).default('agent.alerts').describe('Topic of alerts'),
  KAFKA_TOPIC_ALERT_STATUS: z
    .string()
    .min(1)
    .default('agent.alerts.status')
    .describe('Topic of alert status records (acknowledged, resolved) the alerter follows up on'),
  KAFKA_TOPIC_DLQ: z
    .string()
    .min(1)
    .default('agent.events.dlq')
    .describe('Dead-letter topic for poison messages'),
  KAFKA_TOPIC_PARTITIONS: intFromEnv('Partitions when the services create a topic', 6, 1, 1024),
};

export const clickhouseConfig = {
  CLICKHOUSE_URL: z.string().url().default('http://127.0.0.1:8123').describe('ClickHouse HTTP endpoint'),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('agenttrail')
    .describe('Database holding AgentTrail tables'),
  CLICKHOUSE_USER: z.string().default('default').describe('ClickHouse user'),
  CLICKHOUSE_PASSWORD: z.string().default('').describe('ClickHouse password'),
};

export type ConfigShape = z.ZodRawShape;

export interface ParseOptions {
  /**
   * The service's own prefix (`INGESTER_`): a variable with it that the schema does not declare is
   * a typo, and an ignored typo can leave a protection off (a mistyped GATEWAY_METRICS_TOKEN leaves
   * /metrics open to any key), so it is an error like a bad value.
   */
  ownPrefix?: string;
}

/** Parse `env` against `shape`; throws AT_ERR_CONFIG_INVALID naming every bad variable. */
export function parseConfig<S extends ConfigShape>(
  shape: S,
  env: Env = process.env,
  opts: ParseOptions = {},
): Readonly<z.infer<z.ZodObject<S>>> {
  const unknown = opts.ownPrefix ? unknownSettings(shape, env, opts.ownPrefix) : [];
  const picked: Env = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    // An empty variable means "not set", as in most shells' `VAR= cmd` idiom.
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const result = z.object(shape).safeParse(picked);
  if (!result.success || unknown.length > 0) {
    const issues = result.success ? [] : result.error.issues;
    const problems = issues.map((i) => {
      const key = String(i.path[0] ?? '?');
      if (env[key] === undefined && i.code === 'invalid_type') return `${key} is required and not set`;
      return `${key}=${JSON.stringify(redactIfSecret(key, env[key] ?? ''))}: ${i.message}`;
    });
    problems.push(...unknown);
    throw new AgentTrailError('AT_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data) as Readonly<z.infer<z.ZodObject<S>>>;
}

/**
 * `PREFIX_*` variables the shape does not declare, each with the closest declared name: most
 * words in common (a word left out), then fewest edits (a letter left out).
 */
function unknownSettings(shape: ConfigShape, env: Env, prefix: string): string[] {
  const declared = Object.keys(shape).filter((k) => k.startsWith(prefix));
  const words = (name: string) => name.slice(prefix.length).split('_');
  return Object.keys(env)
    .filter((k) => k.startsWith(prefix) && !(k in shape) && env[k] !== '')
    .sort()
    .map((k) => {
      const mine = words(k);
      const ranked = declared
        .map((d) => ({
          d,
          shared: words(d).filter((w) => mine.includes(w)).length,
          edits: editDistance(k, d),
        }))
        .filter((c) => c.shared > 0)
        .sort((a, b) => b.shared - a.shared || a.edits - b.edits);
      const best = ranked[0]?.d;
      return `${k} is not a setting of this service${best ? ` (did you mean ${best}?)` : ''}`;
    });
}

/** Levenshtein distance (names are short: the quadratic table is fine). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function redactIfSecret(key: string, value: string): string {
  return /PASSWORD|SECRET|TOKEN|KEY$/.test(key) ? '***' : value;
}

/**
 * For main.ts: parse, or print one line naming the setting and exit non-zero. A service with a
 * bad setting must not start half-configured.
 */
export function loadConfigOrExit<S extends ConfigShape>(shape: S, opts: ParseOptions = {}) {
  try {
    return parseConfig(shape, process.env, opts);
  } catch (err) {
    if (err instanceof AgentTrailError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * Rows for README's configuration table: name, default, description, and whether the service
 * refuses to start without it (no default and not optional).
 */
export function describeConfig(
  shape: ConfigShape,
): Array<{ name: string; default: string; description: string; required: boolean }> {
  return Object.entries(shape).map(([name, schema]) => {
    const s = schema as z.ZodType;
    let def = '';
    const parsed = s.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) {
      def = Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data);
    }
    return { name, default: def, description: s.description ?? '', required: !parsed.success };
  });
}
