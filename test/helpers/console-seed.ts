import pino from 'pino';
import { TaskStream } from '../../scenarios/builder.js';
import { toLine, toRow } from '../../services/ingester/rows.js';
import { createEventWriter } from '../../services/ingester/writer.js';
import { START } from './api-seed.js';
import { clickhouseClient } from './stack.js';

// Extra acme tasks for the console's browser test, next to seedApi's: one whose tool output and
// resource hold markup an attacker would plant, and one of 500 events for the first-render time.

export const XSS_TASK = 'acme-xss';
export const BULK_TASK = 'acme-bulk500';
export const XSS_OUTPUT = `<script>alert('xss-script')</script> "><img src=x onerror=alert('xss-img')>`;

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
  const log = pino({ level: 'silent' });
  const ch = clickhouseClient(db);
  const writer = createEventWriter(ch, { retry: { initialMs: 10, maxMs: 100 }, log });
  const control = { signal: new AbortController().signal, onWait: async () => {} };
  const lines = [...xss.events(), ...bulk.events()].map((e) => toLine(toRow(e, Date.now())));
  if ((await writer.insert(lines, 'console', control)).length) throw new Error('console seed refused rows');
  await ch.close();
}
