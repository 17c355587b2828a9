import type { AppConfig } from './config.js';

/** For tests that build the gateway app: small limits, so tests reach them cheaply. */
export const TEST_APP_CONFIG: AppConfig = {
  GATEWAY_FINGERPRINT_KEY: 'unit-test-fingerprint-key',
  GATEWAY_METRICS_TOKEN: undefined,
  GATEWAY_MAX_BODY_BYTES: 64 * 1024,
  GATEWAY_MAX_BATCH_EVENTS: 50,
  GATEWAY_RATE_LIMIT_EVENTS_PER_S: 1000,
  GATEWAY_RATE_LIMIT_BURST_EVENTS: 100,
  GATEWAY_PRODUCE_TIMEOUT_MS: 1000,
  GATEWAY_RETRY_AFTER_S: 7,
};
