import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../stack/paths.js';
import { parseDocument, readDocument } from '../../platform/config-file.js';
import { DetectorConfig } from '../config.js';

// DETECTOR_CONFIG_FILE: the engine's settings (services/detector/config.ts) as a YAML or JSON file,
// e.g. per-tenant risk thresholds. A bad file stops the service at start (78), naming the field.

const dir = mkdtempSync(join(tmpdir(), 'agenttrail-detector-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('DETECTOR_CONFIG_FILE', () => {
  it('reads per-tenant risk thresholds and keeps every other default', () => {
    const path = file(
      'good.yaml',
      'baselines:\n  risk:\n    page_score: 6\n    tenants: { acme: { page_score: 3 } }\nreorder_timeout_ms: 10000\n',
    );
    const c = DetectorConfig.parse(parseDocument(DetectorConfig, readDocument(path), path));
    expect(c.baselines.risk.page_score).toBe(6);
    expect(c.baselines.risk.tenants).toEqual({ acme: { page_score: 3 } });
    expect(c.reorder_timeout_ms).toBe(10_000);
    expect(c.clock_skew_ms).toBe(DetectorConfig.parse({}).clock_skew_ms);
  });

  it('a bad file exits 78 before connecting anywhere, naming the file and field', async () => {
    const path = file('bad.yaml', 'baselines:\n  risk:\n    page_score: -1\n');
    const failed = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'services/detector/main.ts')],
      {
        env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', DETECTOR_CONFIG_FILE: path, LOG_LEVEL: 'error' },
        timeout: 30_000,
      },
    ).then(
      () => undefined,
      (err: { code?: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(78);
    expect(failed?.stderr).toContain(`${path}: baselines.risk.page_score:`);
  });
});
