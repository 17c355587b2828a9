import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alert } from './alert.js';

// Accept/reject fixtures for the alert contract (schemas/fixtures/alert): alerts with and without
// the task's risk signals as context; each reject case breaks one field and names its path.

const DIR = join(import.meta.dirname, 'fixtures', 'alert');
const load = (dir: string, file: string) => JSON.parse(readFileSync(join(DIR, dir, file), 'utf8'));

describe('alert fixtures', () => {
  const valid = readdirSync(join(DIR, 'valid'));
  it.each(valid)('%s is accepted unchanged', (file) => {
    const alert = load('valid', file);
    const r = Alert.safeParse(alert);
    expect(r.success ? [] : r.error.issues).toEqual([]);
    expect(r.data).toEqual(alert);
  });

  it('an alert without risk signals stays valid (the fields are optional)', () => {
    const alert = load('valid', 'alert-without-risk-signals.json');
    expect(alert).not.toHaveProperty('risk_signals');
    expect(Alert.safeParse(alert).success).toBe(true);
  });

  const invalid = readdirSync(join(DIR, 'invalid'));
  it.each(invalid)('%s is rejected at the path it names', (file) => {
    const { expect_path, alert } = load('invalid', file) as { expect_path: string; alert: unknown };
    const r = Alert.safeParse(alert);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(expect_path);
  });
});
