import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageFacts, pollUntil, storedAlerts, storedEventCounts } from '../cli/pipeline/observe.js';
import type { Receiver } from '../cli/pipeline/receiver.js';
import type { Pipeline } from '../cli/pipeline/start.js';
import { runStories, type StoryResult } from '../cli/pipeline/stories.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { clickhouseClient } from './helpers/stack.js';

// The whole pipeline end to end, every stage a real child process, as `agenttrail demo` runs
// it: SDK agents → gateway → Kafka → ingester (→ ClickHouse) and detector (→ alerts topic) →
// alerter → a webhook receiver on 127.0.0.1 that checks signatures the documented way.

const TENANT = 'e2e';
const SECRET = 'whsec_pipeline_int_test';
let e2e: E2E;
let run: string;
let pipeline: Pipeline;
let rx: Receiver;
let stories: StoryResult[];
const ch = clickhouseClient();

beforeAll(async () => {
  e2e = await startE2E('pipeline', { tenant: TENANT, secret: SECRET, partitions: 3 });
  ({ run, pipeline, rx } = e2e);
  stories = await runStories(
    { gatewayUrl: pipeline.gatewayUrl, apiKey: pipeline.apiKey, tenant: TENANT, run },
    ['fix-flaky-test', 'token-to-delete', 'declared-tools-only', 'prod-delete-no-approval'],
  );
});

afterAll(async () => {
  if (e2e) {
    // Every stage drains and exits 0 on SIGTERM.
    expect(await e2e.stop()).toEqual({ gateway: 0, ingester: 0, detector: 0, alerter: 0 });
  }
  await ch.close();
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

    // The timeline as a responder gets it: the query API the pipeline runs, over the stored record.
    const task = story('token-to-delete').taskId;
    const res = await fetch(`${pipeline.queryApiUrl}/v1/tasks/${encodeURIComponent(task)}`, {
      headers: { authorization: `Bearer ${pipeline.queryApiKey}` },
    });
    expect(res.status).toBe(200);
    const t = (await res.json()) as {
      events: Array<{
        seq: number;
        type: string;
        operation?: string;
        mark?: { in_scope: boolean; rules: string[]; evidence_of: string[] };
      }>;
      chain: { status: string };
    };
    expect(t.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.chain.status).toBe('verified');
    // The delete is where the task left scope (it triggered both alerts); the log read that
    // showed the token stays in scope, as evidence of the sequence rule.
    const marks = Object.fromEntries(t.events.flatMap((e) => (e.mark ? [[e.seq, e.mark]] : [])));
    expect(marks[3]).toEqual(
      expect.objectContaining({ in_scope: true, rules: [], evidence_of: ['AT-SEQ-001'] }),
    );
    expect(marks[4]).toEqual(expect.objectContaining({ in_scope: false }));
    expect([...marks[4]!.rules].sort()).toEqual(['AT-APPR-001', 'AT-SEQ-001']);
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
