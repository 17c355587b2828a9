import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { TaskStream } from '../../scenarios/builder.js';
import type { AgentEvent } from '../../schemas/index.js';
import { toLine, toRow } from '../../services/ingester/rows.js';
import { createEventWriter } from '../../services/ingester/writer.js';
import type { RiskSignalRow } from '../../services/platform/clickhouse/risk-signal-row.js';
import { START } from './api-seed.js';
import { clickhouseClient } from './stack.js';

// Extra acme tasks for the console's browser test, next to seedApi's: one whose tool output and
// resource hold markup an attacker would plant, and one of 500 events for the first-render time;
// and the writer they go through (insertEvents), for any test's own extra events. The XSS task
// also gets a risk signal whose explanation carries the same markup.

export const XSS_TASK = 'acme-xss';
export const BULK_TASK = 'acme-bulk500';
export const XSS_OUTPUT = `<script>alert('xss-script')</script> "><img src=x onerror=alert('xss-img')>`;
/** A risk signal on the XSS task's action, its explanation quoting the planted resource. */
export const XSS_SIGNAL = `first use of resource class web:"><img src=x onerror=alert('xss-signal')>`;

export async function seedConsole(db: string): Promise<void> {
  const xss = new TaskStream({
    tenant: 'acme',
    taskId: XSS_TASK,
    agentId: 'scraper',
    startMs: START + 120_000,
  });
  xss.declared(
    { allow: [{ tools: ['web.*'] }] },
    { intent: `summarise <b>news</b> "><img src=x onerror=alert('xss-intent')>` },
  );
  xss.action({
    tool: 'web.fetch',
    operation: 'read',
    resource: `web:"><img src=x onerror=alert('xss-res')>`,
    output: { excerpt: XSS_OUTPUT },
  });
  const bulk = new TaskStream({
    tenant: 'acme',
    taskId: BULK_TASK,
    agentId: 'bulk-bot',
    startMs: START + 180_000,
  });
  bulk.declared({ allow: [{ tools: ['erp.*'], operations: ['read'] }] }, { intent: 'read every invoice' });
  for (let i = 0; i < 498; i++) {
    // Every 50th action a write: out of scope, so the swimlane has red in it.
    const write = i % 50 === 49;
    bulk.action({ tool: 'erp.invoices', operation: write ? 'write' : 'read', resource: `erp:invoices/${i}` });
  }
  bulk.ended();
  await insertEvents(db, [...xss.events(), ...bulk.events()]);
  const action = xss.events().find((e) => e.type === 'action')!;
  const signal: RiskSignalRow = {
    tenant: 'acme',
    task_id: XSS_TASK,
    event_id: action.event_id,
    rule_id: 'AT-BASE-003',
    agent_id: action.agent.id,
    score: 2,
    occurred_at: action.occurred_at,
    explanation: XSS_SIGNAL,
  };
  const ch = clickhouseClient(db);
  try {
    await ch.insert({
      table: 'risk_signals',
      values: [signal],
      format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
  } finally {
    await ch.close();
  }
}

/** Store events as the ingester does, `times` over (a redelivery: reads must count each once). */
export async function insertEvents(db: string, events: readonly AgentEvent[], times = 1): Promise<void> {
  const log = pino({ level: 'silent' });
  const ch = clickhouseClient(db);
  const writer = createEventWriter(ch, { retry: { initialMs: 10, maxMs: 100 }, log });
  const control = { signal: new AbortController().signal, onWait: async () => {} };
  const lines = events.map((e) => toLine(toRow(e, Date.now())));
  try {
    // A token of its own per insert: a repeated token is ClickHouse's cue to drop the batch.
    for (let i = 0; i < times; i++)
      if ((await writer.insert(lines, randomUUID(), control)).length) throw new Error('seed refused rows');
  } finally {
    await ch.close();
  }
}
