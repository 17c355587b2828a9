import { z } from 'zod';
import {
  clickhouseConfig,
  commonConfig,
  csv,
  intFromEnv,
  kafkaConfig,
  metricsEndpointConfig,
} from '../../platform/config.js';
import { statePath } from '../../platform/state-dir.js';
import { DEFAULT_RULES_PATH } from '../rules/default-rules.js';

/** The detector's environment, parsed once at start (keys are the variable names). */
export const detectorSettings = {
  ...commonConfig,
  ...kafkaConfig,
  ...clickhouseConfig,
  DETECTOR_RULES_FILES: csv('Rules files, comma separated, merged in order (reloaded on change or SIGHUP)', [
    DEFAULT_RULES_PATH,
  ]),
  DETECTOR_STATE_DIR: z
    .string()
    .min(1)
    .default(() => statePath('detector'))
    .describe(
      'Directory of the state snapshot (per-task state, baselines, consumed offsets); default in the state dir (AGENTTRAIL_STATE_DIR)',
    ),
  DETECTOR_SNAPSHOT_INTERVAL_MS: intFromEnv(
    'How often state and offsets are snapshotted; offsets are committed right after',
    5_000,
    50,
    3_600_000,
  ),
  DETECTOR_TICK_INTERVAL_MS: intFromEnv(
    'How often open gaps are declared and expired partial matches dropped',
    1_000,
    10,
    600_000,
  ),
  DETECTOR_CONSUMER_GROUP: z
    .string()
    .min(1)
    .default('agenttrail.detector')
    .describe('Kafka consumer group (one detector instance per group, see README)'),
  DETECTOR_START_FROM: z
    .enum(['earliest', 'latest'])
    .default('earliest')
    .describe(
      'Where a detector without a snapshot starts on the events topic (earliest = rebuild by replay)',
    ),
  DETECTOR_SESSION_TIMEOUT_MS: intFromEnv(
    "Kafka group session timeout: how soon a crashed instance's membership expires",
    10_000,
    6_000,
    300_000,
  ),
  DETECTOR_SUPPRESS_MARGIN_MS: intFromEnv(
    'On restart, alerts stored this long before the snapshot time are also skipped when replayed',
    300_000,
    0,
    86_400_000,
  ),
  DETECTOR_CONFIG_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'YAML or JSON file of engine settings (services/detector/config.ts: clock skew, reorder window, verify_hash, baselines and baselines.risk with per-tenant page_score); read at start, default: built-in defaults',
    ),
  DETECTOR_LINK_BASE_URL: z
    .string()
    .url()
    .optional()
    .describe('Base URL of the API, for the timeline link in each alert'),
  DETECTOR_NOT_READY_AFTER_MS: intFromEnv(
    'Alert writes to ClickHouse or Kafka failing this long without a success make /readyz answer 503',
    30_000,
    1_000,
    3_600_000,
  ),
  ...metricsEndpointConfig('DETECTOR_', 9466),
  DETECTOR_ADMIN_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe(
      'Bearer token for POST /admin/rules-reload on the metrics port (the query API sends it for an admin); unset: no admin actions',
    ),
};

export type DetectorSettings = Readonly<z.infer<z.ZodObject<typeof detectorSettings>>>;
