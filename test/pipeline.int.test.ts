import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageFacts, pollUntil, storedAlerts, storedEventCounts } from '../cli/pipeline/observe.js';
import { type Receiver, startReceiver } from '../cli/pipeline/receiver.js';
import { type Pipeline, startPipeline } from '../cli/pipeline/start.js';
import { runStories, type StoryResult } from '../cli/pipeline/stories.js';
import { readTimeline } from '../cli/pipeline/timeline.js';
import { clickhouseClient, dropDatabase, testEndpoints, testLogDir, uniqueName } from './helpers/stack.js';

// The whole pipeline end to end, every stage a real child process, as `agenttrail demo` runs
// it: SDK agents → gateway → Kafka → ingester (→ ClickHouse) and detector (→ alerts topic) →
// alerter → a webhook receiver on 127.0.0.1 that checks signatures the documented way.

const TENANT = 'e2e';
const SECRET = 'whsec_pipeline_int_test';
const run = uniqueName('it_pipeline');
let pipeline: Pipeline;
let rx: Receiver;
let stories: StoryResult[];
const ch = clickhouseClient();

beforeAll(async () => {
  const { brokers, clickhouseUrl } = testEndpoints();
  rx = await startReceiver({ secret: SECRET });
  pipeline = await startPipeline({
    brokers,
    clickhouseUrl,
    database: run,
    run,
    workDir: testLogDir('pipeline', run),
    tenant: TENANT,
    webhook: { url: `${rx.url}/hook`, secret: SECRET },
    partitions: 3,
  });
  stories = await runStories(
    { gatewayUrl: pipeline.gatewayUrl, apiKey: pipeline.apiKey, tenant: TENANT, run },
    ['fix-flaky-test', 'token-to-delete', 'declared-tools-only', 'prod-delete-no-approval'],
  );
});

afterAll(async () => {
  if (pipeline) {
    const codes = await pipeline.stop();
    await pipeline.deleteTopics().catch(() => undefined);
    // Every stage drains and exits 0 on SIGTERM.
    expect(codes).toEqual({ gateway: 0, ingester: 0, detector: 0, alerter: 0 });
  }
  await rx?.close();
  await ch.close();
  await dropDatabase(run);
});

const story = (name: string) => stories.find((s) => s.name === name)!;

describe('pipeline: SDK → gateway → Kafka → ingester + detector → alerter → webhook', () => {
  it("pages the attack's alerts, each signed and verifiable", async () => {
    const attack = story('token-to-delete');
    const want = ['AT-APPR-001', 'AT-SEQ-001'];
    const pages = await pollUntil(
      async () => {
        pipeline.assertRunning();
        return rx.received.map(pageFacts).filter((p) => p.taskId === attack.taskId);
      },
      (p) => want.every((rule) => p.some((x) => x.ruleId === rule)),
      30_000,
      50,
    );
    expect(pages.met).toBe(true);
    expect(pages.value.map((p) => p.ruleId).sort()).toEqual(want);
    expect(pages.value.every((p) => p.signatureOk)).toBe(true);
    // The receiver answered 2xx to each page: a verified page is a delivered one.
    expect(rx.delivered().length).toBe(rx.received.length);
  });

  it('stores every accepted event exactly once, and the record verifies', async () => {
    const taskIds = stories.map((s) => s.taskId);
    const total = stories.reduce((n, s) => n + s.events, 0);
    expect(total).toBeGreaterThan(15);
    const counts = await pollUntil(
      () => storedEventCounts(ch, run, TENANT, taskIds),
      (c) => c.distinct >= total,
      20_000,
    );
    expect(counts.value).toEqual({ raw: total, distinct: total });

    const t = await readTimeline(ch, run, TENANT, story('token-to-delete').taskId);
    expect(t.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.sound).toBe(true);
    // The delete is where the task left scope: both alerts name it as their trigger.
    const deleteEvent = t.events.find((e) => e.type === 'action' && e.data.operation === 'delete')!;
    expect(t.triggered.get(deleteEvent.event_id)?.sort()).toEqual(['AT-APPR-001', 'AT-SEQ-001']);
  });

  it('raises nothing for the benign tasks, and the other attack fires as its scenario says', async () => {
    const other = story('prod-delete-no-approval');
    await pollUntil(
      async () => rx.received.map(pageFacts).filter((p) => p.taskId === other.taskId),
      (p) => other.intended.every((rule) => p.some((x) => x.ruleId === rule)),
      30_000,
      50,
    );
    // Benign tasks were sent first; by now the detector has long passed them. A tick more for
    // anything time-based (gap timeouts) to surface.
    await new Promise((r) => setTimeout(r, 1_500));
    const benign = stories.filter((s) => s.kind === 'benign').map((s) => s.taskId);
    expect(benign).toHaveLength(2);
    expect(await storedAlerts(ch, run, TENANT, benign)).toEqual([]);
    expect(rx.received.map(pageFacts).filter((p) => benign.includes(p.taskId))).toEqual([]);
    const otherRules = (await storedAlerts(ch, run, TENANT, [other.taskId])).map((a) => a.rule_id).sort();
    expect(otherRules).toEqual([...other.intended].sort());
  });
});
