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

describe('risk_signals table', () => {
  const signal = {
    tenant: 'acme',
    task_id: 'risk-task-1',
    event_id: 'risk-task-1.3',
    rule_id: 'AT-BASE-002',
    agent_id: 'agent-1',
    score: 2,
    occurred_at: '2026-11-01T09:00:00.000Z',
    explanation: 'first use of tool crm.contacts by this identity',
  };
  const insert = (database: string) =>
    ch.insert({
      table: `${database}.risk_signals`,
      values: [signal],
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });

  it('a signal recorded twice (a replay) reads once; another tenant reads none', async () => {
    await migrate(ch, { database: db, log: pino({ level: 'silent' }) });
    await insert(db);
    await insert(db);
    const read = createReadLayer({ client: ch, database: db, caller: 'alert-risk-test' });
    const rows = await read.riskSignals.forTask('acme', 'risk-task-1');
    expect(rows?.map((r) => [r.rule_id, r.event_id, r.score])).toEqual([['AT-BASE-002', 'risk-task-1.3', 2]]);
    expect(await read.riskSignals.forTask('globex', 'risk-task-1')).toEqual([]);
  });

  it('before migration 0009 made the table, a timeline read says so instead of failing', async () => {
    const old = uniqueName('it_risk_pre0009');
    try {
      await migrate(ch, { database: old, log: pino({ level: 'silent' }) });
      await ch.command({ query: `DROP TABLE ${old}.risk_signals` });
      const read = createReadLayer({ client: ch, database: old, caller: 'alert-risk-test' });
      await expect(read.riskSignals.forTask('acme', 'risk-task-1')).resolves.toBeUndefined();
    } finally {
      await dropDatabase(old);
    }
  });
});
