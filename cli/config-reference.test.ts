import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference, renderConfigReference } from './config-reference.js';
import { errorReference, renderErrorReference } from './error-reference.js';
import { README_PATH, withBlock } from './readme-blocks.js';

describe('README generated sections (run `npm run docs` when one fails)', () => {
  const readme = readFileSync(README_PATH, 'utf8');
  it.each([configReference, errorReference])('$name matches the code', (block) => {
    expect(readme).toBe(withBlock(readme, block));
  });
});

describe('configuration reference', () => {
  it('lists every stage and the shared settings', () => {
    const text = renderConfigReference();
    for (const key of [
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'GATEWAY_PORT',
      'INGESTER_FLUSH_MAX_ROWS',
      'DETECTOR_RULES_FILES',
      'ALERTER_ROUTES_FILE',
      'API_PORT',
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

describe('error table', () => {
  it('has a row for every catalogue code, with its status where it is an HTTP answer', () => {
    const text = renderErrorReference();
    expect(text).toContain('| `AT_ERR_METHOD_NOT_ALLOWED` | HTTP answer | 405 | no |');
    expect(text).toContain('| `AT_ERR_CLICKHOUSE_REJECTED` | dead-letter header | – | no |');
    expect(text).toContain('| `AT_ERR_RULES_MACRO_CYCLE` | rules check | – | no |');
    expect(text).toContain('| `AT_WARN_RULES_UNUSED_LIST` |');
  });
});
