import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Alert } from '../schemas/alert.js';
import { alertView } from '../services/api/routes/tasks.js';
import { toAlertRow } from '../services/detector/io/alert-rows.js';
import { migrate } from '../services/platform/clickhouse/migrate.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { repoRoot } from '../stack/paths.js';
import { clickhouseClient, dropDatabase, uniqueName } from './helpers/stack.js';

// An alert's risk context (risk_signals, risk_score: the task's baseline signals that rode on it)
// survives the `alerts` table (migrations/0008) and comes back, as the detector raised it, in
// what the query API shows for the alert and the timeline.

const db = uniqueName('it_alert_risk');
const ch = clickhouseClient();

afterAll(async () => {
  await dropDatabase(db);
  await ch.close();
});

const fixture = (name: string) =>
  Alert.parse(JSON.parse(readFileSync(join(repoRoot, 'schemas/fixtures/alert/valid', name), 'utf8')));

describe('alerts table: risk signals', () => {
  it('stores and reads back risk_signals and risk_score; an alert without them has none', async () => {
    await migrate(ch, { database: db, log: pino({ level: 'silent' }) });
    const withRisk = fixture('scope-alert-with-risk-signals.json');
    // The same alert without its signals, under an id of its own (the fixture shares the id).
    const without = { ...fixture('alert-without-risk-signals.json'), alert_id: 'no-risk-0001' };
    expect(withRisk.risk_signals?.length).toBeGreaterThan(0);
    await ch.insert({
      table: `${db}.alerts`,
      values: [toAlertRow(withRisk), toAlertRow(without)],
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    const read = createReadLayer({ client: ch, database: db, caller: 'alert-risk-test' });
    const a = alertView((await read.alerts.get(withRisk.tenant, withRisk.alert_id))!);
    expect(a.risk_signals).toEqual(withRisk.risk_signals);
    expect(a.risk_score).toBe(withRisk.risk_score);
    const b = alertView((await read.alerts.get(without.tenant, without.alert_id))!);
    expect(b).not.toHaveProperty('risk_signals');
    expect(b).not.toHaveProperty('risk_score');
  });
});
