import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { TaskStream } from '../../scenarios/builder.js';
import type { AgentEvent } from '../../schemas/index.js';
import { makeAlert } from '../../services/alerter/testing.js';
import { type AlertStatusWriter, createAlertStatusWriter } from '../../services/api/alert-status/writer.js';
import { buildApi } from '../../services/api/app.js';
import { toAlertRow } from '../../services/detector/io/alert-rows.js';
import { toLine, toRow } from '../../services/ingester/rows.js';
import { createEventWriter } from '../../services/ingester/writer.js';
import { migrate } from '../../services/platform/clickhouse/migrate.js';
import { createReadLayer } from '../../services/platform/clickhouse/read/index.js';
import { createProducer } from '../../services/platform/kafka/producer.js';
import { createKey, KeyStore, mintKey } from '../../services/platform/keys/index.js';
import { clickhouseClient, createTopic, deleteTopic, kafkaClient, uniqueName } from './stack.js';

// Seeded data for the query API's contract, authorization and injection tests: two tenants with
// look-alike data (same agent ids, similar resources), a delegation tree with a subset and a
// wider child, approvals, a scope change with and without approval, a seq gap, a tampered event,
// alerts (two sharing a dedup key) and a delivery. The API is built in-process over the real
// ClickHouse client; every test reads through HTTP (app.inject).

export const START = Date.parse('2026-11-01T10:00:00.000Z');
const log = pino({ level: 'silent' });

const SCOPE = {
  allow: [{ tools: ['erp.*'], operations: ['read' as const], resources: ['erp:invoices/**'] }],
  egress: ['api.partner.example'],
  data_classes: ['internal'],
  approvals: { required_for: [{ operations: ['write' as const] }], approvers: ['bob@acme.example'] },
};

function parentTask(tenant: string, prefix: string): TaskStream {
  const s = new TaskStream({
    tenant,
    taskId: `${prefix}-parent`,
    agentId: 'planner',
    workloadIdentity: `spiffe://${tenant}/planner`,
    startMs: START,
  });
  s.declared(SCOPE, { intent: 'reconcile November invoices', by: 'alice@acme.example' });
  s.credential('cred-1');
  for (let i = 0; i < 4; i++)
    s.action({
      tool: 'erp.invoices',
      operation: 'read',
      resource: `erp:invoices/2026-11-${i}`,
      credential_id: 'cred-1',
      data_classes: ['internal'],
    });
  s.event('approval.requested', {
    approval_id: 'ap-1',
    target: { tool: 'erp.invoices', operation: 'write' },
    context: 'fix a typo in invoice 3',
  });
  s.grant('ap-1', 'bob@acme.example', { tool: 'erp.invoices', operation: 'write' });
  s.scopeChanged(
    { ...SCOPE, allow: [...SCOPE.allow, { tools: ['erp.invoices'], operations: ['write' as const] }] },
    { reason: 'fix one invoice', approvalId: 'ap-1' },
  );
  s.action({
    tool: 'erp.invoices',
    operation: 'write',
    resource: 'erp:invoices/2026-11-3',
    approval_id: 'ap-1',
    credential_id: 'cred-1',
  });
  s.action({
    tool: 'http.post',
    operation: 'transfer',
    destination: 'https://paste.evil.example/drop',
    data_classes: ['pii'],
    credential_id: 'cred-1',
  });
  s.delegate(`${prefix}-child-ok`, {
    allow: [{ tools: ['erp.invoices'], operations: ['read'], resources: ['erp:invoices/2026-11-*'] }],
    approvals: { required_for: [{ operations: ['write'] }] },
  });
  s.delegate(`${prefix}-child-wide`, { allow: [{ tools: ['**'] }], egress: ['**'] });
  s.revoke('cred-1');
  s.ended();
  return s;
}

function child(
  tenant: string,
  id: string,
  parent: string,
  scope: Parameters<TaskStream['declared']>[0],
  n: number,
): TaskStream {
  const s = new TaskStream({
    tenant,
    taskId: id,
    agentId: 'worker',
    parentTaskId: parent,
    startMs: START + 20_000,
  });
  s.declared(scope, { by: `task:${parent}` });
  for (let i = 0; i < n; i++)
    s.action({ tool: 'erp.invoices', operation: 'read', resource: `erp:invoices/2026-11-${i}` });
  return s;
}

function plain(tenant: string, id: string, n: number, agent = 'planner'): AgentEvent[] {
  const s = new TaskStream({ tenant, taskId: id, agentId: agent, startMs: START + 60_000 });
  s.declared({ allow: [{ tools: ['erp.*'] }] });
  for (let i = 0; i < n; i++)
    s.action({
      tool: 'erp.invoices',
      operation: 'read',
      resource: `erp:invoices/2026-12-${String(i).padStart(2, '0')}`,
    });
  return s.events();
}

export interface Seeded {
  db: string;
  app: FastifyInstance;
  ch: ClickHouseClient;
  keys: { analyst: string; responder: string; admin: string; globex: string; collector: string };
  events: { acme: AgentEvent[]; globex: AgentEvent[] };
  /** `acknowledged` was acknowledged (a status record) by acme's responder key. */
  alerts: { egress: string; egress2: string; acknowledged: string; globex: string; dedupKey: string };
  /** acme's transfer action (the egress alert's evidence). */
  egressEventId: string;
  /** With `keyAdmin`: an acme API key in the temp keys file the admin routes manage (one to revoke). */
  spareKeyId?: string;
}

export interface SeedOptions {
  /** Also register acknowledge/resolve, with a real writer on a topic of the test's own. */
  alertStatus?: boolean;
  /** Also register the admin routes: keys (over keys files in a temp folder) and rules reload (faked). */
  keyAdmin?: boolean;
}

export async function seedApi(db: string, opts: SeedOptions = {}): Promise<Seeded> {
  const ch = clickhouseClient();
  await migrate(ch, { database: db, log });

  const acmeParent = parentTask('acme', 'acme').events();
  const okScope = {
    allow: [
      { tools: ['erp.invoices'], operations: ['read' as const], resources: ['erp:invoices/2026-11-*'] },
    ],
    approvals: { required_for: [{ operations: ['write' as const] }] },
  };
  const acmeOk = child('acme', 'acme-child-ok', 'acme-parent', okScope, 3).events();
  const acmeWide = child(
    'acme',
    'acme-child-wide',
    'acme-parent',
    { allow: [{ tools: ['**'] }], egress: ['**'] },
    2,
  ).events();
  // A seq gap: seq 3 of acme-gap never arrived.
  const gap = plain('acme', 'acme-gap', 5).filter((e) => e.seq !== 3);
  // A tampered event: seq 3's resource edited after it was hashed.
  const tampered = plain('acme', 'acme-tampered', 5).map((e) =>
    e.seq === 3 && e.type === 'action'
      ? ({ ...e, data: { ...e.data, resource: 'erp:payroll/all' } } as AgentEvent)
      : e,
  );
  const many = plain('acme', 'acme-many', 40, 'bulk-bot');
  const acme = [...acmeParent, ...acmeOk, ...acmeWide, ...gap, ...tampered, ...many];
  const globex = [...parentTask('globex', 'globex').events(), ...plain('globex', 'globex-gap', 3)];

  const writer = createEventWriter(clickhouseClient(db), { retry: { initialMs: 10, maxMs: 100 }, log });
  const control = { signal: new AbortController().signal, onWait: async () => {} };
  const lines = [...acme, ...globex].map((e) => toLine(toRow(e, Date.now())));
  // Twice, as a redelivery would: every read must collapse the copies.
  if ((await writer.insert(lines, 'a', control)).length) throw new Error('seed insert refused rows');
  if ((await writer.insert(lines, 'b', control)).length) throw new Error('seed insert refused rows');

  const egressEvent = acmeParent.find((e) => e.type === 'action' && e.data.operation === 'transfer')!;
  const dedupKey = 'AT-EGR-001|acme|acme-parent';
  const at = (ms: number) => new Date(START + ms).toISOString();
  const a1 = makeAlert({
    tenant: 'acme',
    task_id: 'acme-parent',
    agent_id: 'planner',
    rule_id: 'AT-EGR-001',
    severity: 'high',
    scope_element: 'scope.egress',
    evidence: [egressEvent.event_id],
    dedup_key: dedupKey,
    occurred_at: at(12_000),
    created_at: at(13_000),
  });
  const a2 = makeAlert({
    tenant: 'acme',
    task_id: 'acme-parent',
    agent_id: 'planner',
    rule_id: 'AT-EGR-001',
    severity: 'critical',
    evidence: ['acme-parent.3', egressEvent.event_id],
    dedup_key: dedupKey,
    occurred_at: at(12_000),
    created_at: at(14_000),
  });
  const a3 = makeAlert({
    tenant: 'acme',
    task_id: 'acme-child-wide',
    agent_id: 'worker',
    rule_id: 'AT-DEL-001',
    severity: 'medium',
    evidence: ['acme-child-wide.1'],
    dedup_key: 'AT-DEL-001|acme|acme-child-wide',
    occurred_at: at(21_000),
    created_at: at(22_000),
  });
  const g1 = makeAlert({
    tenant: 'globex',
    task_id: 'globex-parent',
    agent_id: 'planner',
    rule_id: 'AT-EGR-001',
    evidence: ['globex-parent.11'],
    dedup_key: 'AT-EGR-001|globex|globex-parent',
    occurred_at: at(12_000),
    created_at: at(13_500),
  });
  await ch.insert({ table: `${db}.alerts`, values: [a1, a2, a3, g1].map(toAlertRow), format: 'JSONEachRow' });
  await ch.insert({
    table: `${db}.alert_deliveries`,
    values: [
      {
        alert_id: a1.alert_id,
        destination: 'pagerduty',
        attempt: 1,
        status: 'failed',
        http_status: 502,
        latency_ms: 120,
        error: 'bad gateway',
        at: '2026-11-01 10:00:13.500',
      },
      {
        alert_id: a1.alert_id,
        destination: 'pagerduty',
        attempt: 2,
        status: 'delivered',
        http_status: 202,
        latency_ms: 80,
        error: null,
        at: '2026-11-01 10:00:14.500',
      },
      {
        alert_id: g1.alert_id,
        destination: 'slack',
        attempt: 1,
        status: 'delivered',
        http_status: 200,
        latency_ms: 50,
        error: null,
        at: '2026-11-01 10:00:14.000',
      },
    ],
    format: 'JSONEachRow',
  });

  // a3 acknowledged, as routes/alert-status.ts records it (a row of alert_status).
  await ch.insert({
    table: `${db}.alert_status`,
    values: [
      {
        status_id: 'f'.repeat(32),
        type: 'alert.acknowledged',
        alert_id: a3.alert_id,
        tenant: 'acme',
        dedup_key: a3.dedup_key,
        by_key_id: 'abcdefabcdef',
        by_role: 'responder',
        reason: 'looking into the wide delegation',
        at: '2026-11-01 10:00:30.000',
      },
    ],
    format: 'JSONEachRow',
  });

  const analyst = mintKey('acme', 'analyst', 'analyst');
  const responder = mintKey('acme', 'responder', 'responder');
  const admin = mintKey('acme', 'admin', 'admin');
  const globexKey = mintKey('globex', 'globex analyst', 'admin');
  const collector = mintKey('acme', 'collector');
  const keys = new KeyStore(
    [analyst, responder, admin, globexKey, collector].map((k) => k.record),
    'api',
  );
  let alertStatus: AlertStatusWriter | undefined;
  let close = async () => {};
  if (opts.alertStatus) {
    const topic = uniqueName('it_api_status');
    await createTopic(topic, 1);
    const producer = createProducer(kafkaClient());
    await producer.connect();
    alertStatus = createAlertStatusWriter({ producer, topic, clickhouse: ch, database: db });
    close = async () => {
      await producer.disconnect();
      await deleteTopic(topic);
    };
  }
  let keyFiles: { apiKeysFile: string; collectorKeysFile: string } | undefined;
  let spareKeyId: string | undefined;
  if (opts.keyAdmin) {
    const dir = mkdtempSync(join(tmpdir(), 'at-api-seed-keys-'));
    keyFiles = { apiKeysFile: join(dir, 'api-keys.json'), collectorKeysFile: join(dir, 'gateway-keys.json') };
    spareKeyId = createKey(keyFiles.apiKeysFile, 'acme', 'spare', 'analyst').record.id;
    const closeStatus = close;
    close = async () => {
      await closeStatus();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const app = await buildApi({
    config: { API_MAX_PAGE: 1000, API_METRICS_TOKEN: undefined },
    keys,
    read: createReadLayer({ client: ch, database: db, caller: 'api-test' }),
    ...(alertStatus ? { alertStatus } : {}),
    ...(keyFiles ? { keyFiles } : {}),
    // The detector's side of a rules reload is services/api/routes/rules.test.ts's.
    ...(opts.keyAdmin ? { reloadRules: async () => ({ applied: true }) } : {}),
  });
  app.addHook('onClose', close);
  return {
    db,
    app,
    ch,
    keys: {
      analyst: analyst.key,
      responder: responder.key,
      admin: admin.key,
      globex: globexKey.key,
      collector: collector.key,
    },
    events: { acme, globex },
    alerts: {
      egress: a1.alert_id,
      egress2: a2.alert_id,
      acknowledged: a3.alert_id,
      globex: g1.alert_id,
      dedupKey,
    },
    egressEventId: egressEvent.event_id,
    ...(spareKeyId ? { spareKeyId } : {}),
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
