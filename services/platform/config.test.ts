import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { repoRoot } from '../../stack/paths.js';
import {
  clickhouseConfig,
  commonConfig,
  describeConfig,
  intFromEnv,
  kafkaConfig,
  parseConfig,
} from './config.js';
import { AgentTrailError } from './errors.js';

const shape = {
  ...commonConfig,
  ...kafkaConfig,
  ...clickhouseConfig,
  X_FLUSH_MS: intFromEnv('flush', 250, 1, 60_000),
};

describe('parseConfig', () => {
  it('applies defaults and parses lists', () => {
    const cfg = parseConfig(shape, { KAFKA_BROKERS: 'a:1, b:2' });
    expect(cfg.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(cfg.X_FLUSH_MS).toBe(250);
    expect(cfg.CLICKHOUSE_DATABASE).toBe('agenttrail');
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('names the bad variable and its value in one line', () => {
    let caught: unknown;
    try {
      parseConfig(shape, { X_FLUSH_MS: 'soon' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AgentTrailError);
    const e = caught as AgentTrailError;
    expect(e.code).toBe('AT_ERR_CONFIG_INVALID');
    expect(e.message).toMatch(/X_FLUSH_MS="soon"/);
    expect(e.message).not.toContain('\n');
  });

  it('rejects out-of-range numbers and bad URLs, and never echoes passwords', () => {
    expect(() => parseConfig(shape, { X_FLUSH_MS: '0' })).toThrow(/X_FLUSH_MS="0": .*>=1/);
    expect(() => parseConfig(shape, { CLICKHOUSE_URL: 'not a url' })).toThrow(/CLICKHOUSE_URL/);
    expect(() =>
      parseConfig({ ...shape, CLICKHOUSE_PASSWORD: shape.X_FLUSH_MS }, { CLICKHOUSE_PASSWORD: 'hunter2' }),
    ).toThrow(/CLICKHOUSE_PASSWORD="\*\*\*"/);
  });

  it('says which required variable is missing', () => {
    expect(() => parseConfig({ ...shape, X_KEY: z.string() }, {})).toThrow(/X_KEY is required and not set$/);
  });

  it("with the service's own prefix, rejects a variable it does not declare and names the closest", () => {
    const own = { ...shape, X_FLUSH_INTERVAL_MS: intFromEnv('i', 1), X_FLUSH_MAX_ROWS: intFromEnv('r', 1) };
    expect(() => parseConfig(own, { X_FLUSH_INTERVAL: '100' }, { ownPrefix: 'X_' })).toThrow(
      /X_FLUSH_INTERVAL is not a setting of this service \(did you mean X_FLUSH_INTERVAL_MS\?\)$/,
    );
    expect(() => parseConfig(own, { X_FLUSH_MAX_ROW: '9' }, { ownPrefix: 'X_' })).toThrow(
      /did you mean X_FLUSH_MAX_ROWS\?/,
    );
    expect(() => parseConfig(own, { X_COLOUR: 'red' }, { ownPrefix: 'X_' })).toThrow(
      /X_COLOUR is not a setting of this service$/,
    );
    // Other services' variables (a shared env file), empty ones, and no prefix given: not errors.
    expect(parseConfig(own, { Y_FLUSH_MS: '1', X_OLD: '' }, { ownPrefix: 'X_' }).X_FLUSH_MS).toBe(250);
    expect(parseConfig(own, { X_FLUSH_MS_TYPO: '1' }).X_FLUSH_MS).toBe(250);
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig(shape, { X_FLUSH_MS: '' }).X_FLUSH_MS).toBe(250);
  });

  it('describes every setting for the README table', () => {
    const rows = describeConfig(shape);
    expect(rows.find((r) => r.name === 'KAFKA_BROKERS')).toMatchObject({ default: '127.0.0.1:9092' });
    expect(rows.every((r) => r.description.length > 0)).toBe(true);
  });

  it('marks a setting without a default as required, and optional or defaulted ones not', () => {
    const rows = describeConfig({
      ...shape,
      X_NEEDED: z.string().min(1).describe('needed'),
      X_MAYBE: z.string().optional().describe('maybe'),
    });
    const required = (name: string) => rows.find((r) => r.name === name)?.required;
    expect([required('X_NEEDED'), required('X_MAYBE'), required('X_FLUSH_MS')]).toEqual([true, false, false]);
  });
});

describe('a service started with a bad setting', () => {
  /**
   * Runs services/<name>/main.ts to its exit. Brokers nobody listens on: a service that got past
   * its configuration would hang or print connection errors instead of exiting at once.
   */
  const start = (name: string, settings: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'services', name, 'main.ts')], {
      env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', ...settings },
      timeout: 30_000,
    }).then(
      () => undefined,
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );

  it.each(['gateway', 'ingester', 'detector', 'alerter'])(
    '%s prints one line naming it and exits 78 before connecting anywhere',
    async (name) => {
      const failed = await start(name, { LOG_LEVEL: 'loud' });
      expect(failed?.code).toBe(78);
      expect(failed?.stdout).toBe('');
      const lines = failed?.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines?.[0]).toMatch(/^AT_ERR_CONFIG_INVALID: invalid configuration: .*LOG_LEVEL="loud": /);
    },
  );

  it.each(['gateway', 'ingester', 'detector'])('%s refuses a misspelt setting of its own', async (name) => {
    const prefix = name.toUpperCase();
    const failed = await start(name, { [`${prefix}_METRICS_TOKN`]: 'secret' });
    expect(failed?.code).toBe(78);
    expect(failed?.stderr).toContain(
      `${prefix}_METRICS_TOKN is not a setting of this service (did you mean ${prefix}_METRICS_TOKEN?)`,
    );
  });
});
