import { z } from 'zod';
import {
  clickhouseConfig,
  commonConfig,
  intFromEnv,
  kafkaConfig,
  metricsEndpointConfig,
} from '../platform/config.js';

/** The alerter's environment, parsed once at start (keys are the variable names). */
export const alerterConfig = {
  ...commonConfig,
  ...kafkaConfig,
  ...clickhouseConfig,
  ALERTER_ROUTES_FILE: z
    .string()
    .min(1)
    .describe('Path of the routes file (JSON or YAML): destinations and routes, see schemas/route.ts'),
  ALERTER_TIMELINE_BASE_URL: z
    .string()
    .url()
    .optional()
    .describe(
      'Base URL of the query API, for pages of alerts that carry no link: <base>/v1/tasks/<task>?tenant=<tenant>',
    ),
  ALERTER_CONSUMER_GROUP: z
    .string()
    .min(1)
    .default('agenttrail.alerter')
    .describe('Kafka consumer group (one per deployment; tests use their own)'),
  ALERTER_SESSION_TIMEOUT_MS: intFromEnv(
    "Kafka group session timeout: how soon a crashed instance's partitions move on",
    30_000,
    6_000,
    300_000,
  ),
  ALERTER_START_FROM: z
    .enum(['earliest', 'latest'])
    .default('latest')
    .describe('Where a new consumer group starts on the alerts topic (an existing group resumes)'),
  ALERTER_COMMIT_INTERVAL_MS: intFromEnv(
    'How often finished offsets are committed to Kafka',
    500,
    10,
    600_000,
  ),
  ALERTER_LOG_FLUSH_INTERVAL_MS: intFromEnv(
    'How often delivery-log rows are written to ClickHouse',
    100,
    5,
    60_000,
  ),
  ALERTER_MAX_IN_FLIGHT: intFromEnv(
    'Alert deliveries held in memory before intake pauses',
    10_000,
    1,
    1_000_000,
  ),
  ALERTER_NOT_READY_AFTER_MS: intFromEnv(
    'Delivery-log writes failing this long without a success make /readyz answer 503 (pages still go out)',
    30_000,
    1_000,
    3_600_000,
  ),
  ...metricsEndpointConfig('ALERTER_', 9467),
};

export type AlerterConfig = Readonly<z.infer<z.ZodObject<typeof alerterConfig>>>;
