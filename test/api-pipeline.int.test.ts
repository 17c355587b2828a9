import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../cli/pipeline/observe.js';
import { runStories, type StoryResult } from '../cli/pipeline/stories.js';
import { type E2E, startE2E } from './helpers/pipeline.js';

// The query API in the running pipeline (cli/pipeline/start.ts starts it, as the demo does):
// the link in a real page, built by the detector, opens the task's timeline through the API,
// and a responder's key acknowledges and resolves the alert.

const TENANT = 'api_e2e';
const SECRET = 'whsec_api_pipeline_int_test';
let e2e: E2E;
let stories: StoryResult[];

beforeAll(async () => {
  e2e = await startE2E('api-pipeline', { tenant: TENANT, secret: SECRET, partitions: 2 });
  const p = e2e.pipeline;
  stories = await runStories({ gatewayUrl: p.gatewayUrl, apiKey: p.apiKey, tenant: TENANT, run: e2e.run }, [
    'token-to-delete',
  ]);
});

afterAll(async () => {
  if (e2e) await e2e.stop();
});

interface Page {
  alert: { alert_id: string; task_id: string; rule_id: string; link?: string };
}

describe('query API in the pipeline', () => {
  it('the link of a delivered page opens the timeline; the collector key cannot', async () => {
    const { pipeline, rx } = e2e;
    const task = stories[0]!.taskId;
    const got = await pollUntil(
      async () => {
        pipeline.assertRunning();
        return rx.received
          .map((r) => r.json as Page)
          .filter((p) => p.alert?.task_id === task && p.alert.link);
      },
      (pages) => pages.length > 0,
      30_000,
      50,
    );
    expect(got.met).toBe(true);
    const page = got.value[0]!;
    const link = new URL(page.alert.link!);
    expect(`${link.origin}${link.pathname}${link.search}`).toBe(
      `${pipeline.queryApiUrl}/v1/tasks/${encodeURIComponent(task)}?tenant=${TENANT}`,
    );
    // The alert's row is in ClickHouse by the time its page is out, the events a moment later.
    const timeline = await pollUntil(
      async () => {
        const r = await fetch(link, { headers: { authorization: `Bearer ${pipeline.queryApiKey}` } });
        return r.status === 200
          ? ((await r.json()) as { alerts: Array<{ alert_id: string }>; chain: { status: string } })
          : undefined;
      },
      (t) =>
        t !== undefined &&
        t.chain.status === 'verified' &&
        t.alerts.some((a) => a.alert_id === page.alert.alert_id),
      20_000,
      200,
    );
    expect(timeline.met).toBe(true);
    const collector = await fetch(link, { headers: { authorization: `Bearer ${pipeline.apiKey}` } });
    expect(collector.status).toBe(401);

    const id = page.alert.alert_id;
    for (const action of ['acknowledge', 'resolve']) {
      const r = await fetch(`${pipeline.queryApiUrl}/v1/alerts/${id}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pipeline.queryApiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `${action} from the API pipeline test` }),
      });
      expect(r.status, await r.clone().text()).toBe(200);
    }
  });
});
