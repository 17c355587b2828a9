import { z } from 'zod';
import { clickhouseConfig, commonConfig, intFromEnv, kafkaConfig } from '../platform/config.js';
import { statePath } from '../platform/state-dir.js';

// The query API's settings: one schema, parsed once in main.ts, frozen and passed down.
// Kafka only for acknowledge/resolve: the status record goes to KAFKA_TOPIC_ALERT_STATUS.
export const apiConfigShape = {
  ...commonConfig,
  ...clickhouseConfig,
  ...kafkaConfig,
  API_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the query API listens on'),
  API_PORT: intFromEnv('HTTP port of the query API', 8090, 0, 65_535),
  API_KEYS_FILE: z
    .string()
    .min(1)
    .default(() => statePath('api-keys.json'))
    .describe(
      'JSON file of API keys (hashed, each with a tenant and a role), reloaded on change; default in the state dir; `agenttrail keys create --tenant <t> --role analyst|responder|admin` adds one. Collector keys are never valid here',
    ),
  API_COLLECTOR_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The gateway's keys file (GATEWAY_KEYS_FILE), so a tenant's admin can create and revoke collector keys through the API; unset: only API keys are managed here",
    ),
  API_DETECTOR_ADMIN_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The detector's metrics port (e.g. http://127.0.0.1:9466), for POST /v1/admin/rules/reload; unset: no rules reload here",
    ),
  API_DETECTOR_ADMIN_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe("The detector's DETECTOR_ADMIN_TOKEN, sent with a rules reload"),
  API_METRICS_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe('Bearer token for /metrics; when unset, /metrics takes an admin API key'),
  API_QUERY_TIMEOUT_S: intFromEnv('Longest a ClickHouse read of the API may run (seconds)', 30, 1, 3600),
  API_MAX_PAGE: intFromEnv('Largest page (limit) of a list endpoint', 1000, 10, 100_000),
  API_TIMELINE_MAX_EVENTS: intFromEnv(
    'Most events a timeline answer shows in full (the chain is verified over all of them; the export has every one)',
    20_000,
    100,
    10_000_000,
  ),
};

export type ApiConfig = Readonly<z.infer<z.ZodObject<typeof apiConfigShape>>>;

/** The subset app.ts needs, so tests build the app without ClickHouse settings. */
export type ApiAppConfig = Pick<ApiConfig, 'API_METRICS_TOKEN' | 'API_MAX_PAGE'> &
  Partial<Pick<ApiConfig, 'API_TIMELINE_MAX_EVENTS'>>;
