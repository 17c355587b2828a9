// Background load for bench/alert-latency.bench.ts: benign tasks POSTed to the gateway at a
// fixed event rate, for a fixed time, on 127.0.0.1 only. A separate process so that building
// and sending 5,000 events/s does not delay the timestamps the benchmark itself takes.
//
//   LOAD_GATEWAY_URL, LOAD_API_KEY, LOAD_TENANT, LOAD_RUN   where and as whom
//   LOAD_RATE (events/s), LOAD_SECONDS                       how much, how long
//
// Last stdout line: JSON {events, seconds, events_per_s, requests, failed, request_p99_ms}.

import { TaskStream } from '../scenarios/builder.js';
import { OPS_SCOPE } from '../scenarios/fixtures.js';
import { type AgentEvent, eventHash } from '../schemas/index.js';

const url = new URL('/v1/events', process.env.LOAD_GATEWAY_URL ?? '');
if (url.hostname !== '127.0.0.1') throw new Error(`load goes to 127.0.0.1 only, not ${url.hostname}`);
const apiKey = process.env.LOAD_API_KEY ?? '';
const tenant = process.env.LOAD_TENANT ?? 'bench';
const run = process.env.LOAD_RUN ?? 'bench';
const rate = Number(process.env.LOAD_RATE ?? 5_000);
const seconds = Number(process.env.LOAD_SECONDS ?? 30);

/** One benign task: declared, 23 in-scope reads over 5 files, ended. 25 events, one request's share. */
const TASK_EVENTS = 25;
const TASKS_PER_REQUEST = 10;
const BATCH = TASK_EVENTS * TASKS_PER_REQUEST;
/** Requests in flight at once: enough to cover the gateway's acks=all round trip. */
const MAX_IN_FLIGHT = 8;
/** Identities the tasks are spread over, so no single one looks like a rate or fan-out outlier. */
const IDENTITIES = 40;
const log = (m: string) => process.stderr.write(`[alert-latency load] ${m}\n`);

// A validated template (zod defaults applied, as the gateway will store it), re-stamped per task
// with fresh ids and times and re-hashed: parsing 5,000 events/s through zod would cost the
// 2 cores more than the services under test.
const template: AgentEvent[] = (() => {
  const s = new TaskStream({ taskId: 'template', tenant, startMs: Date.now() });
  s.declared(OPS_SCOPE, { intent: 'index the infra repository', by: 'alice@acme.example' });
  for (let k = 0; k < TASK_EVENTS - 2; k++) {
    s.action({ tool: 'github.get_file', operation: 'read', resource: `github:acme/infra/file-${k % 5}` });
  }
  return s.ended().events();
})();

let taskNo = 0;
function taskEvents(now: number): Record<string, unknown>[] {
  const id = `${run}.bg.${taskNo}`;
  const agentNo = taskNo % IDENTITIES;
  taskNo++;
  const agent = { id: `bg-agent-${agentNo}`, workload_identity: `spiffe://acme.example/agent/bg-${agentNo}` };
  let prev: string | undefined;
  return template.map((t, i) => {
    const e: Record<string, unknown> = {
      ...t,
      event_id: `${id}.${i + 1}`,
      task_id: id,
      agent,
      occurred_at: new Date(now + i).toISOString(),
    };
    delete e.received_at;
    delete e.hash;
    if (prev === undefined) delete e.prev_hash;
    else e.prev_hash = prev;
    e.hash = eventHash(e);
    prev = e.hash as string;
    return e;
  });
}

async function main(): Promise<void> {
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let inFlight = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  let nextReport = started + 5_000;

  async function post(): Promise<void> {
    const now = Date.now();
    const events: Record<string, unknown>[] = [];
    for (let t = 0; t < TASKS_PER_REQUEST; t++) events.push(...taskEvents(now));
    const t0 = performance.now();
    inFlight++;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(events),
      });
      await res.arrayBuffer();
      if (res.status === 202) sent += events.length;
      else failed++;
    } catch {
      failed++;
    } finally {
      inFlight--;
      latencies.push(performance.now() - t0);
    }
  }

  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    let issued = sent + inFlight * BATCH;
    while (issued + BATCH <= due && inFlight < MAX_IN_FLIGHT) {
      void post();
      issued += BATCH;
    }
    if (performance.now() >= nextReport) {
      const s = (performance.now() - started) / 1000;
      log(`${sent} events in ${s.toFixed(0)} s (${Math.round(sent / s)}/s), ${failed} failed requests`);
      nextReport += 5_000;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    events: sent,
    seconds: Math.round(elapsed * 10) / 10,
    events_per_s: Math.round(sent / elapsed),
    requests: latencies.length,
    failed,
    request_p99_ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
