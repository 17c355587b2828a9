import { z } from 'zod';
import { boolFromEnv, commonConfig, intFromEnv, kafkaConfig } from '../platform/config.js';
import { statePath } from '../platform/state-dir.js';

// The gateway's settings: one schema, parsed once in main.ts, frozen and passed down.
export const gatewayConfigShape = {
  ...commonConfig,
  ...kafkaConfig,
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the gateway listens on'),
  GATEWAY_PORT: intFromEnv('HTTP port of the gateway', 8080, 0, 65_535),
  GATEWAY_KEYS_FILE: z
    .string()
    .min(1)
    .default(() => statePath('gateway-keys.json'))
    .describe(
      'JSON file of collector API keys (hashed), reloaded on change; default in the state dir (AGENTTRAIL_STATE_DIR); `agenttrail keys create --tenant <t>` adds one',
    ),
  GATEWAY_FINGERPRINT_KEY: z
    .string()
    .min(16, 'must be at least 16 characters of secret material')
    .describe('HMAC key for secret and entity fingerprints; keep it stable, or fingerprints stop matching'),
  GATEWAY_METRICS_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe('Bearer token for /metrics; when unset, /metrics takes any valid collector key'),
  GATEWAY_MAX_BODY_BYTES: intFromEnv(
    'Largest request body accepted (413 above)',
    5 * 1024 * 1024,
    1024,
    256 * 1024 * 1024,
  ),
  GATEWAY_MAX_BATCH_EVENTS: intFromEnv('Most events in one request (413 above)', 1000, 1, 100_000),
  GATEWAY_RATE_LIMIT_EVENTS_PER_S: intFromEnv(
    'Sustained events per second per API key',
    50_000,
    1,
    10_000_000,
  ),
  GATEWAY_RATE_LIMIT_BURST_EVENTS: intFromEnv(
    'Token-bucket size per API key, in events',
    100_000,
    1,
    100_000_000,
  ),
  GATEWAY_PRODUCE_TIMEOUT_MS: intFromEnv(
    'Longest wait for Kafka acks before answering 503',
    5000,
    100,
    120_000,
  ),
  GATEWAY_KAFKA_FLUSH_BYTES: intFromEnv(
    "Most bytes in one Kafka send; larger requests are split. Keep under the broker's message.max.bytes (1 MiB by default); also the largest one event may be as stored (413 above)",
    960 * 1024,
    16 * 1024,
    64 * 1024 * 1024,
  ),
  GATEWAY_RETRY_AFTER_S: intFromEnv('Retry-After sent with 503 when Kafka is unavailable', 5, 1, 3600),
  GATEWAY_OTLP_TOOL_MAPPING: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Tool mapping file (YAML or JSON, the MCP proxy's format) for /v1/traces: tool-name globs → operation class, argument paths → resource/destination; unmapped tools are `execute`",
    ),
  GATEWAY_OTLP_PARTIAL_SUCCESS: boolFromEnv(
    "/v1/traces: take a request's valid spans and report the rest in OTLP partial_success (true), or refuse the whole request with 422 when any span is rejected (false: all-or-nothing as /v1/events; OTLP exporters then drop the export)",
    true,
  ),
  GATEWAY_OTLP_MAX_TASKS: intFromEnv(
    'Tasks /v1/traces numbers at once for spans without agenttrail.seq (least recently used forgotten beyond)',
    100_000,
    1,
    10_000_000,
  ),
  GATEWAY_WORKERS: intFromEnv(
    'Gateway processes (node:cluster, one Kafka producer each; rate limits are per process)',
    1,
    1,
    64,
  ),
};

export type GatewayConfig = Readonly<z.infer<z.ZodObject<typeof gatewayConfigShape>>>;

/** Cross-field checks the per-key schema cannot express; a bad combination stops start-up. */
export function checkGatewayConfig(c: GatewayConfig): string | undefined {
  if (c.GATEWAY_RATE_LIMIT_BURST_EVENTS < c.GATEWAY_MAX_BATCH_EVENTS) {
    return `GATEWAY_RATE_LIMIT_BURST_EVENTS=${c.GATEWAY_RATE_LIMIT_BURST_EVENTS}: must be >= GATEWAY_MAX_BATCH_EVENTS (${c.GATEWAY_MAX_BATCH_EVENTS}), or a full batch could never pass`;
  }
  return undefined;
}

/** The subset app.ts needs, so tests can build the app without Kafka settings. */
export type AppConfig = Pick<
  GatewayConfig,
  | 'GATEWAY_FINGERPRINT_KEY'
  | 'GATEWAY_METRICS_TOKEN'
  | 'GATEWAY_MAX_BODY_BYTES'
  | 'GATEWAY_MAX_BATCH_EVENTS'
  | 'GATEWAY_RATE_LIMIT_EVENTS_PER_S'
  | 'GATEWAY_RATE_LIMIT_BURST_EVENTS'
  | 'GATEWAY_PRODUCE_TIMEOUT_MS'
  | 'GATEWAY_RETRY_AFTER_S'
> &
  Partial<
    Pick<
      GatewayConfig,
      'GATEWAY_OTLP_TOOL_MAPPING' | 'GATEWAY_OTLP_MAX_TASKS' | 'GATEWAY_OTLP_PARTIAL_SUCCESS'
    >
  >;
