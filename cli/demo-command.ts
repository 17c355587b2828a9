import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import type { Timeline } from '../services/api/timeline/assemble.js';
import { defaultStateDir, stackDown, stackUp } from '../stack/index.js';
import { type Command, wantsHelp } from './command.js';
import { attackTasks, investigateHints } from './investigate/demo-hints.js';
import { getJson } from './investigate/run.js';
import { renderTimeline } from './investigate/timeline-render.js';
import { httpTransport } from './investigate/transport.js';
import { type PageFacts, pageFacts, pollUntil, storedAlerts, storedEventCounts } from './pipeline/observe.js';
import { startReceiver } from './pipeline/receiver.js';
import { type Pipeline, startPipeline } from './pipeline/start.js';
import { runStories, type StoryResult } from './pipeline/stories.js';

const HELP = `usage: agenttrail demo [--down]   (npm run demo)

The whole pipeline on the local stack, in about a minute:
  1. brings Kafka + ClickHouse up (or reuses them; KAFKA_BROKERS / CLICKHOUSE_URL are honoured)
  2. starts gateway, ingester, detector and alerter as child processes on this run's own
     topics and consumer groups, database ${'`agenttrail_demo`'}, with a webhook receiver on
     127.0.0.1 that verifies every page's signature
  3. runs agents through the gateway with the SDK: benign tasks and attacks from the seed
     scenarios (discovered token used for a delete, secret sent to a paste site, production
     delete without approval)
  4. shows events stored, alerts raised, pages received, then one attack task's timeline
     from the run's query API (as agenttrail timeline prints it), its hash chain verified,
     and the agenttrail commands and URLs that show the attack tasks afterwards, with the
     web console's URL of the first one
  5. stops the services (SIGTERM) and removes this run's topics; the stack keeps running

Work dir (keys, routes, service logs): .state/demo/<run>/. Exit status 1 when an expected
page did not arrive in time, a benign task raised an alert, or a signature did not verify.

options:
  --down   also stop the local stack afterwards (as 'agenttrail stack down')`;

const DATABASE = 'agenttrail_demo';
const TENANT = 'demo';
/** Expected pages must arrive within this long after the last event was accepted. */
const ALERT_TIMEOUT_MS = 30_000;
/** After the last expected page: time for anything unexpected (benign alerts) to show up. */
const QUIET_MS = 2_000;

const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Every intended rule of every attack story has a page with a verified signature. */
function missingPages(stories: StoryResult[], pages: PageFacts[]): string[] {
  const missing: string[] = [];
  for (const s of stories) {
    for (const rule of s.intended) {
      if (!pages.some((p) => p.taskId === s.taskId && p.ruleId === rule && p.signatureOk)) {
        missing.push(`${rule} for ${s.name}`);
      }
    }
  }
  return missing;
}

async function demo(
  pipeline: Pipeline,
  ch: ReturnType<typeof createClient>,
  rx: Receiver,
  run: string,
  clickhouseUrl: string,
) {
  let ok = true;
  out('\n── agents at work (SDK → gateway) ──');
  const agentsStarted = Date.now();
  const stories = await runStories({
    gatewayUrl: pipeline.gatewayUrl,
    apiKey: pipeline.apiKey,
    tenant: TENANT,
    run,
  });
  const sentAt = Date.now();
  for (const s of stories) {
    out(
      `  ${s.kind.padEnd(6)} ${s.name.padEnd(24)} ${String(s.events).padStart(2)} events accepted  ${s.story}`,
    );
  }
  const taskIds = stories.map((s) => s.taskId);
  const total = stories.reduce((n, s) => n + s.events, 0);

  out('\n── stored (Kafka → ingester → ClickHouse) ──');
  const stored = await pollUntil(
    () => storedEventCounts(ch, DATABASE, TENANT, taskIds),
    (c) => c.distinct >= total,
    ALERT_TIMEOUT_MS,
  );
  out(
    `  ${stored.value.distinct}/${total} events in ${DATABASE}.events after ${secs(Date.now() - sentAt)}` +
      ` (${stored.value.raw} rows: ${stored.value.raw === stored.value.distinct ? 'each stored exactly once' : 'DUPLICATES'})`,
  );
  if (!stored.met) ok = false;

  out('\n── pages (detector → Kafka → alerter → signed webhook), times since the agents started ──');
  const attacks = stories.filter((s) => s.kind === 'attack');
  const shown = new Set<string>();
  const showNew = () => {
    for (const p of rx.delivered().map(pageFacts)) {
      const key = p.alertIds.join(',');
      if (shown.has(key)) continue;
      shown.add(key);
      const story = stories.find((s) => s.taskId === p.taskId)?.name ?? p.taskId;
      const sig = p.signatureOk ? 'signature verified' : 'SIGNATURE INVALID';
      out(
        `  +${secs(p.at - agentsStarted).padStart(6)}  ${p.ruleId.padEnd(12)} ${p.severity.padEnd(8)} ${story.padEnd(24)} ${sig}`,
      );
    }
  };
  const pages = await pollUntil(
    async () => {
      pipeline.assertRunning();
      showNew();
      return rx.delivered().map(pageFacts);
    },
    (p) => missingPages(attacks, p).length === 0,
    ALERT_TIMEOUT_MS,
    50,
  );
  await new Promise((r) => setTimeout(r, QUIET_MS));
  showNew();
  const all = rx.delivered().map(pageFacts);
  const missing = missingPages(attacks, all);
  if (missing.length > 0) {
    ok = false;
    out(`  MISSING after ${secs(ALERT_TIMEOUT_MS)}: ${missing.join(', ')}`);
  } else {
    out(
      `  every expected page arrived, the last ${secs(Math.max(...pages.value.map((p) => p.at)) - sentAt)} after the last event was accepted`,
    );
  }
  if (all.some((p) => !p.signatureOk)) ok = false;

  const alerts = await storedAlerts(ch, DATABASE, TENANT, taskIds);
  const benign = stories.filter((s) => s.kind === 'benign').map((s) => s.taskId);
  const falsePositives = alerts.filter((a) => benign.includes(a.task_id));
  out(
    `  ${alerts.length} alerts in ${DATABASE}.alerts for this run's ${attacks.length} attack tasks; ` +
      `${falsePositives.length} on its ${benign.length} benign tasks`,
  );
  for (const a of falsePositives) out(`  UNEXPECTED ${a.rule_id} on benign task ${a.task_id}`);
  if (falsePositives.length > 0) ok = false;

  const shownTask = stories.find((s) => s.name === 'token-to-delete');
  if (shownTask) {
    // Through this run's query API, rendered as `agenttrail timeline` renders it.
    out("\n── the incident responder's view (agenttrail timeline, from the query API) ──");
    const api = httpTransport(pipeline.queryApiUrl, pipeline.queryApiKey);
    const t = await getJson<Timeline>(api, `/v1/tasks/${encodeURIComponent(shownTask.taskId)}`);
    for (const line of renderTimeline(t)) out(line);
    if (!t.chain.ok || !t.declared) ok = false;
  }

  out('\n── investigate this run ──');
  const hints = investigateHints({
    clickhouseUrl,
    database: DATABASE,
    tenant: TENANT,
    apiUrl: pipeline.queryApiUrl,
    attacks: attackTasks(stories),
  });
  for (const line of hints) out(line ? `  ${line}` : '');
  return ok;
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export const demoCommand: Command = {
  summary: 'run the whole pipeline locally: agents, alerts, signed pages, a task timeline',
  async run(argv) {
    if (wantsHelp(argv)) {
      out(HELP);
      return 0;
    }
    const unknown = argv.filter((a) => a !== '--down');
    if (unknown.length > 0) {
      process.stderr.write(`agenttrail demo: unexpected argument(s) ${unknown.join(' ')}\n\n${HELP}\n`);
      return 2;
    }
    const started = Date.now();
    const ep = await stackUp({ log: (m) => out(`[stack] ${m}`) });
    out(
      `stack: kafka ${ep.kafka.brokers.join(',')}, clickhouse ${ep.clickhouse.url} (${secs(Date.now() - started)})`,
    );

    const run = `agenttrail_demo_${Date.now().toString(36)}`;
    const workDir = join(defaultStateDir(), 'demo', run);
    const secret = randomBytes(24).toString('base64url');
    const rx = await startReceiver({ secret });
    const ch = createClient({ url: ep.clickhouse.url });
    let pipeline: Pipeline | undefined;
    let ok = false;
    try {
      const t0 = Date.now();
      out(`\nstarting gateway, ingester, detector, alerter (run ${run}, logs in ${workDir})`);
      pipeline = await startPipeline({
        brokers: ep.kafka.brokers,
        clickhouseUrl: ep.clickhouse.url,
        database: DATABASE,
        run,
        workDir,
        tenant: TENANT,
        webhook: { url: `${rx.url}/agenttrail`, secret },
        partitions: 3,
        log: (m) => out(`  ${m}`),
      });
      out(`  pipeline ready in ${secs(Date.now() - t0)}; webhook receiver ${rx.url} verifies signatures`);
      ok = await demo(pipeline, ch, rx, run, ep.clickhouse.url);
    } catch (err) {
      out(`\ndemo failed: ${(err as Error).message}`);
      for (const s of pipeline?.services ?? []) out(`\n${s.name} log tail (${s.logFile}):\n${s.tail(15)}`);
      ok = false;
    } finally {
      if (pipeline) {
        const codes = await pipeline.stop();
        out(
          `\nservices stopped (SIGTERM): ${Object.entries(codes)
            .map(([n, c]) => `${n} ${c}`)
            .join(', ')}`,
        );
        if (Object.values(codes).some((c) => c !== 0)) ok = false;
        await pipeline.deleteTopics().catch((e: Error) => out(`  could not delete topics: ${e.message}`));
      }
      await rx.close();
      await ch.close();
    }
    if (argv.includes('--down')) {
      // As `agenttrail stack down`: everything `stack up` started, reused parts included.
      const res = ep.external ? { stopped: [] } : await stackDown();
      out(`stack: ${res.stopped.length ? `stopped ${res.stopped.join(', ')}` : 'nothing to stop'}`);
    } else {
      out(`stack left running (agenttrail stack down stops it); data stays in ${DATABASE}`);
    }
    out(`\n${ok ? 'DEMO OK' : 'DEMO FAILED'} in ${secs(Date.now() - started)}`);
    return ok ? 0 : 1;
  },
};
