import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnIngester, waitForRows } from '../bench/ingest-harness.js';
import { TaskStream } from '../scenarios/builder.js';
import { generateScenario } from '../scenarios/index.js';
import type { Alert } from '../schemas/index.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { seedApi } from './helpers/api-seed.js';
import {
  DETECTOR_LOG_DIR,
  detectorEnv,
  produceEvents,
  readAlertTopic,
  referenceAlerts,
  singleTaskScenarios,
  spawnDetector,
  storedAlertCounts,
  storedAlertIds,
} from './helpers/detector.js';
import { clickhouseClient, createTopic, dropDatabase, testEndpoints, uniqueName } from './helpers/stack.js';

// The detector as a real child process on the shared stack: events produced to Kafka come out
// as alerts on the alerts topic and in the alerts table; the backtest over the stored events
// reports the same alerts the live detector raised.

const run = promisify(execFile);
const databases: string[] = [];
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

async function setup(prefix: string, partitions = 3) {
  const database = uniqueName(prefix);
  databases.push(database);
  const names = { database, eventsTopic: `${database}.events`, alertsTopic: `${database}.alerts` };
  await createTopic(names.eventsTopic, partitions);
  await createTopic(names.alertsTopic, partitions);
  const stateDir = mkdtempSync(join(tmpdir(), 'agenttrail-detector-'));
  return { ...names, stateDir, ...testEndpoints() };
}

/** An ingester into the setup's database, so the events are in the table too. */
const ingesterFor = (s: Awaited<ReturnType<typeof setup>>) =>
  spawnIngester({
    brokers: s.brokers,
    clickhouseUrl: s.clickhouseUrl,
    database: s.database,
    topic: s.eventsTopic,
    dlqTopic: `${s.database}.dlq`,
    logDir: DETECTOR_LOG_DIR,
    name: `${s.database}-ingester`,
  });

const ids = (alerts: Alert[]) => [...new Set(alerts.map((a) => a.alert_id))].sort();

describe('detector', () => {
  it('turns an attack on the events topic into its alerts on the topic and in the table', async () => {
    const s = await setup('it_detect_e2e');
    const attack = generateScenario('secret-exfiltration', { id: 'e2e-a', tenant: 'acme' });
    const benign = generateScenario('secret-to-its-api', { id: 'e2e-b', tenant: 'acme' });
    const events = [...attack.events, ...benign.events];
    const expected = referenceAlerts(events);
    expect(expected.map((a) => a.rule_id)).toEqual(expect.arrayContaining(attack.intended));

    const detector = await spawnDetector(detectorEnv(s), s.database);
    const ch = clickhouseClient();
    try {
      await produceEvents(s.brokers, s.eventsTopic, events);
      const onTopic = await readAlertTopic(s.brokers, s.alertsTopic, (a) => a.length >= expected.length);
      expect(ids(onTopic)).toEqual(ids(expected));
      // Keyed by task: one task's alerts stay in order on one partition.
      expect(new Set(onTopic.map((a) => a.task_id))).toEqual(new Set([attack.events[0]!.task_id]));
      await expect.poll(() => storedAlertIds(ch, s.database), { timeout: 10_000 }).toEqual(ids(expected));

      // A graceful stop snapshots and exits 0.
      expect(await detector.stop('SIGTERM')).toBe(0);
      expect(detector.output.join('')).toContain('consumer stopped; state snapshotted and offsets committed');
    } finally {
      await detector.stop('SIGKILL');
      await ch.close();
    }
  });

  it('backtest over the stored events reports the alerts the live detector raised', async () => {
    const s = await setup('it_detect_backtest');
    const events = singleTaskScenarios(300, 'bt').flatMap((x) => x.events);
    const expected = referenceAlerts(events);
    const ingester = ingesterFor(s);
    const detector = await spawnDetector(detectorEnv(s), s.database);
    const ch = clickhouseClient();
    try {
      await produceEvents(s.brokers, s.eventsTopic, events);
      // Some scenarios redeliver an event on purpose: the table holds each event_id once.
      const distinctEvents = new Set(events.map((e) => e.event_id)).size;
      await waitForRows(ch, s.database, distinctEvents, 60_000);
      await expect
        .poll(async () => (await storedAlertCounts(ch, s.database)).final, { timeout: 30_000 })
        .toBe(new Set(expected.map((a) => a.alert_id)).size);
      const live = await storedAlertIds(ch, s.database);
      expect(live).toEqual(ids(expected));

      const { stdout, stderr } = await run(process.execPath, ['bin/agenttrail.mjs', 'backtest', '--json'], {
        env: {
          PATH: process.env.PATH ?? '',
          CLICKHOUSE_URL: s.clickhouseUrl,
          CLICKHOUSE_DATABASE: s.database,
        },
        maxBuffer: 64 * 1024 * 1024,
      });
      const report = JSON.parse(stdout) as {
        events: number;
        alerts: Alert[];
        by_rule: Record<string, number>;
      };
      expect(report.events, stderr).toBe(distinctEvents);
      expect(ids(report.alerts)).toEqual(live);
      // A dry run: nothing new reached the table.
      expect(await storedAlertIds(ch, s.database)).toEqual(live);
    } finally {
      ingester.child.kill('SIGKILL');
      await detector.stop('SIGKILL');
      await ch.close();
    }
  });

  it('stores risk signals that page nothing, and the timeline shows them on their action', async () => {
    const s = await setup('it_detect_signals', 1);
    // A short warm-up, so a fresh detector has a baseline after a few actions.
    const configFile = join(s.stateDir, 'detector.json');
    writeFileSync(configFile, JSON.stringify({ baselines: { first_use_warmup_actions: 5 } }));
    const identity = 'spiffe://acme/agent/signals';
    const start = Date.UTC(2026, 10, 1, 9);
    const warm = new TaskStream({ taskId: 'sig-warm', workloadIdentity: identity, startMs: start });
    warm.declared({ allow: [{ operations: ['read'] }] });
    for (let k = 0; k < 6; k++)
      warm.action({ tool: 'erp.invoices', operation: 'read', resource: `erp:inv/${k}` });
    const task = new TaskStream({ taskId: 'sig-new', workloadIdentity: identity, startMs: start + 600_000 });
    task.declared({ allow: [{ operations: ['read'] }] });
    // In scope, but a tool and a resource class this identity never used: two signals (score 4),
    // under the page score (5), and no other alert to ride on.
    task.action({ tool: 'crm.contacts', operation: 'read', resource: 'crm:contacts/all' });
    const events = [...warm.events(), ...task.events()];
    expect(referenceAlerts(events)).toEqual([]);

    const ingester = ingesterFor(s);
    const detector = await spawnDetector(
      detectorEnv({ ...s, extra: { DETECTOR_CONFIG_FILE: configFile } }),
      s.database,
    );
    const ch = clickhouseClient();
    const read = createReadLayer({ client: ch, database: s.database, caller: 'signals-test' });
    try {
      await produceEvents(s.brokers, s.eventsTopic, events);
      await waitForRows(ch, s.database, events.length, 60_000);
      await expect
        .poll(async () => (await read.riskSignals.forTask('acme', 'sig-new'))?.map((r) => r.rule_id), {
          timeout: 20_000,
        })
        .toEqual(['AT-BASE-002', 'AT-BASE-003']);
      expect(await storedAlertIds(ch, s.database)).toEqual([]);
      const action = task.events().find((e) => e.type === 'action')!;

      const api = await seedApi(s.database);
      try {
        const r = await api.app.inject({
          url: '/v1/tasks/sig-new?tenant=acme',
          headers: { authorization: `Bearer ${api.keys.analyst}` },
        });
        expect(r.statusCode, r.body).toBe(200);
        const t = r.json() as {
          risk: { score: number; signals: Array<{ rule_id: string; event_id: string; explanation: string }> };
          alerts: unknown[];
          events: Array<{ event_id: string; mark?: { in_scope: boolean; risk_signals: string[] } }>;
        };
        expect(t.alerts).toEqual([]);
        expect(t.risk.score).toBe(4);
        expect(t.risk.signals.map((x) => [x.rule_id, x.event_id])).toEqual([
          ['AT-BASE-002', action.event_id],
          ['AT-BASE-003', action.event_id],
        ]);
        expect(t.risk.signals.every((x) => x.explanation.length > 0)).toBe(true);
        const marked = t.events.find((e) => e.event_id === action.event_id);
        expect(marked?.mark).toMatchObject({ in_scope: true, risk_signals: ['AT-BASE-002', 'AT-BASE-003'] });
      } finally {
        await api.app.close();
        await api.ch.close();
      }
    } finally {
      ingester.child.kill('SIGKILL');
      await detector.stop('SIGKILL');
      await ch.close();
    }
  });
});
