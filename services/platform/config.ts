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

export const kafkaConfig = {
  KAFKA_BROKERS: csv('Kafka bootstrap brokers, comma separated', ['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('agenttrail').describe('kafkajs client id prefix'),
  KAFKA_TOPIC_EVENTS: z.string().min(1).default('agent.events').describe('Topic of agent events'),
  KAFKA_TOPIC_ALERTS: z.string().min(1).default('agent.alerts').describe('Topic of alerts'),
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

/** Parse `env` against `shape`; throws AT_ERR_CONFIG_INVALID naming every bad variable. */
export function parseConfig<S extends ConfigShape>(
  shape: S,
  env: Env = process.env,
): Readonly<z.infer<z.ZodObject<S>>> {
  const picked: Env = {};
  for (const key of Object.keys(shape)) {
    const v = env[key];
    // An empty variable means "not set", as in most shells' `VAR= cmd` idiom.
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const result = z.object(shape).safeParse(picked);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = String(i.path[0] ?? '?');
      if (env[key] === undefined && i.code === 'invalid_type') return `${key} is required and not set`;
      return `${key}=${JSON.stringify(redactIfSecret(key, env[key] ?? ''))}: ${i.message}`;
    });
    throw new AgentTrailError('AT_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(result.data) as Readonly<z.infer<z.ZodObject<S>>>;
}

function redactIfSecret(key: string, value: string): string {
  return /PASSWORD|SECRET|TOKEN|KEY$/.test(key) ? '***' : value;
}

/**
 * For main.ts: parse, or print one line naming the setting and exit non-zero. A service with a
 * bad setting must not start half-configured.
 */
export function loadConfigOrExit<S extends ConfigShape>(shape: S, env: Env = process.env) {
  try {
    return parseConfig(shape, env);
  } catch (err) {
    if (err instanceof AgentTrailError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/** Rows for README's configuration table: name, default, description. */
export function describeConfig(
  shape: ConfigShape,
): Array<{ name: string; default: string; description: string }> {
  return Object.entries(shape).map(([name, schema]) => {
    const s = schema as z.ZodType;
    let def = '';
    const parsed = s.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) {
      def = Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data);
    }
    return { name, default: def, description: s.description ?? '' };
  });
}
