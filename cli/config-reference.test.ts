import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_PATH, renderConfigReference, withConfigReference } from './config-reference.js';

describe('README configuration reference', () => {
  it('matches the zod config schemas (run `npm run docs:config` when this fails)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readme).toBe(withConfigReference(readme));
  });

  it('lists every stage and the shared settings', () => {
    const text = renderConfigReference();
    for (const key of [
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'GATEWAY_PORT',
      'INGESTER_FLUSH_MAX_ROWS',
      'DETECTOR_RULES_FILES',
      'ALERTER_ROUTES_FILE',
    ]) {
      expect(text).toContain(`\`${key}\``);
    }
  });

  it('marks the settings a service cannot start without', () => {
    const text = renderConfigReference();
    expect(text).toContain('| `GATEWAY_FINGERPRINT_KEY` | **required** |');
    expect(text).toContain('| `ALERTER_ROUTES_FILE` | **required** |');
  });
});
