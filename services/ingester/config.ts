import { z } from 'zod';
import { clickhouseConfig, commonConfig, intFromEnv, kafkaConfig } from '../platform/config.js';

// Ingester settings: keys are the environment variable names (unit in the suffix). Flush
// defaults come from bench/ingest-throughput.bench.ts (see README, "Ingester").

export const ingesterConfig = {
  ...commonConfig,
  ...kafkaConfig,
  ...clickhouseConfig,
  INGESTER_CONSUMER_GROUP: z
    .string()
    .min(1)
    .default('agenttrail.ingester')
    .describe('Kafka consumer group (one per independent copy of the events table)'),
  INGESTER_INSERT_MODE: z
    .enum(['rows', 'input'])
    .default('input')
    .describe(
      'input: ClickHouse derives the rows of gateway-marked messages from their bytes, the rest take the rows path; rows: the ingester builds every row (README, "Store: ingester")',
    ),
  INGESTER_FLUSH_MAX_ROWS: intFromEnv('Insert when this many rows are buffered', 50_000, 1, 1_000_000),
  INGESTER_FLUSH_MAX_BYTES: intFromEnv(
    'Insert when buffered messages reach this many bytes (bounds memory)',
    64 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
  ),
  INGESTER_FLUSH_INTERVAL_MS: intFromEnv(
    'Insert when the oldest buffered row waited this long',
    1_000,
    10,
    600_000,
  ),
  INGESTER_FETCH_MAX_BYTES: intFromEnv(
    'Kafka fetch size per request',
    32 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
  ),
  INGESTER_FETCH_MAX_BYTES_PER_PARTITION: intFromEnv(
    'Kafka fetch size per partition',
    8 * 1024 * 1024,
    1024,
    1024 * 1024 * 1024,
  ),
  INGESTER_SESSION_TIMEOUT_MS: intFromEnv('Kafka consumer group session timeout', 30_000, 6_000, 300_000),
  INGESTER_HEARTBEAT_INTERVAL_MS: intFromEnv('Kafka heartbeat interval', 3_000, 100, 60_000),
  INGESTER_RETRY_INITIAL_MS: intFromEnv('First wait before retrying ClickHouse or the DLQ', 200, 1, 60_000),
  INGESTER_RETRY_MAX_MS: intFromEnv('Longest wait between retries', 10_000, 1, 600_000),
  INGESTER_RETENTION_DAYS: intFromEnv(
    'Days of events kept (TTL on received_at); 0 keeps forever',
    365,
    0,
    36_500,
  ),
  INGESTER_NOT_READY_AFTER_MS: intFromEnv(
    'Writes to ClickHouse or the DLQ failing this long without a success make /readyz answer 503',
    30_000,
    1_000,
    3_600_000,
  ),
  INGESTER_METRICS_PORT: intFromEnv('Port of /metrics, /healthz and /readyz; 0 disables', 9464, 0, 65_535),
  INGESTER_METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('Address /metrics listens on'),
  INGESTER_METRICS_TOKEN: z.string().optional().describe('Bearer token required on /metrics (optional)'),
};

export type IngesterConfig = Readonly<z.infer<z.ZodObject<typeof ingesterConfig>>>;

/**
 * Cross-field checks, run after the per-key parse (loadConfigOrExit checks each key alone).
 * Each problem names the key to fix.
 */
export function checkIngesterConfig(c: IngesterConfig): string[] {
  const problems: string[] = [];
  if (c.INGESTER_RETRY_MAX_MS < c.INGESTER_RETRY_INITIAL_MS) {
    problems.push('INGESTER_RETRY_MAX_MS: must be at least INGESTER_RETRY_INITIAL_MS');
  }
  if (c.INGESTER_HEARTBEAT_INTERVAL_MS * 3 > c.INGESTER_SESSION_TIMEOUT_MS) {
    problems.push('INGESTER_HEARTBEAT_INTERVAL_MS: must be at most a third of INGESTER_SESSION_TIMEOUT_MS');
  }
  if (c.INGESTER_FETCH_MAX_BYTES_PER_PARTITION > c.INGESTER_FETCH_MAX_BYTES) {
    problems.push('INGESTER_FETCH_MAX_BYTES_PER_PARTITION: must not exceed INGESTER_FETCH_MAX_BYTES');
  }
  return problems;
}
