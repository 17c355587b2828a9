import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackTasks, consoleUrlOf, investigateHints } from '../cli/investigate/demo-hints.js';
import { pollUntil } from '../cli/pipeline/observe.js';
import { runStories, type StoryResult } from '../cli/pipeline/stories.js';
import { statePath } from '../services/platform/state-dir.js';
import { consoleTaskLink } from '../services/platform/timeline-link.js';
import { axe, type ConsoleBrowser, launchChromium, screenshotDir } from './helpers/console-browser.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { testEndpoints } from './helpers/stack.js';

// The console with the demo's own data: the pipeline as `agenttrail demo` runs it (gateway,
// ingester, detector, alerter as child processes; the query API in this process), the demo's
// stories sent through the gateway with the SDK. The console URL is the one the demo prints
// (its own hint function, cli/investigate/demo-hints.ts), and the alert link is the one the
// detector put in a delivered page: each opened in headless Chromium, as a responder would.

const TENANT = 'console_demo';
const SECRET = 'whsec_console_demo_int_test';
let e2e: E2E;
let stories: StoryResult[];
let b: ConsoleBrowser;
const shots = screenshotDir(statePath('test-logs', 'console'));

beforeAll(async () => {
  e2e = await startE2E('console-demo', { tenant: TENANT, secret: SECRET, partitions: 2 });
  const p = e2e.pipeline;
  stories = await runStories({ gatewayUrl: p.gatewayUrl, apiKey: p.apiKey, tenant: TENANT, run: e2e.run });
  b = await launchChromium();
});
afterAll(async () => {
  await b?.close();
  if (e2e) await e2e.stop();
});

/** A fresh tab (no key in its session) that follows `url` and signs in where the console asks. */
async function openSignedIn(
  browser: Browser,
  url: string,
  key: string,
): Promise<{ page: Page; close(): Promise<void> }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(url);
  await page.waitForSelector('[data-page="signin"]');
  await page.fill('#key', key);
  await page.press('#key', 'Enter');
  return { page, close: () => ctx.close() };
}

/** Wait for the task's timeline through the API: events stored, chain verified, its alerts in. */
async function stored(task: string, rules: readonly string[]) {
  const { pipeline } = e2e;
  const got = await pollUntil(
    async () => {
      pipeline.assertRunning();
      const r = await fetch(`${pipeline.queryApiUrl}/v1/tasks/${encodeURIComponent(task)}`, {
        headers: { authorization: `Bearer ${pipeline.queryApiKey}` },
      });
      return r.status === 200
        ? ((await r.json()) as { chain: { status: string }; alerts: Array<{ rule_id: string }> })
        : undefined;
    },
    (t) =>
      t !== undefined &&
      t.chain.status === 'verified' &&
      rules.every((rule) => t.alerts.some((a) => a.rule_id === rule)),
    30_000,
    200,
  );
  expect(got.met, `timeline of ${task}`).toBe(true);
}

describe('console with the demo’s data (browser)', () => {
  it('the console URL the demo prints for its first attack task opens that task', async () => {
    const { pipeline } = e2e;
    const hints = investigateHints({
      clickhouseUrl: testEndpoints().clickhouseUrl,
      database: e2e.run,
      tenant: TENANT,
      apiUrl: pipeline.queryApiUrl,
      attacks: attackTasks(stories),
    });
    const printed = consoleUrlOf(hints, pipeline.queryApiUrl);
    console.log(`console: the demo's hint for this run: ${printed}`);
    const first = stories.find((s) => s.kind === 'attack')!;
    expect(first.name).toBe('token-to-delete');
    await stored(first.taskId, first.intended);

    const tab = await openSignedIn(b.browser, printed, pipeline.queryApiKey);
    try {
      const { page } = tab;
      await page.waitForSelector(`[data-page="timeline"][data-task="${first.taskId}"]`);
      // Back on exactly the printed URL after sign-in, the key in no URL.
      expect(page.url()).toBe(printed);
      await expect(page.locator('.declared .intent').textContent()).resolves.toBe(
        'find why the staging deploy fails',
      );
      // The unapproved delete with the discovered token is marked, with its rules.
      const bad = page.locator('#events > li.violation');
      expect(await bad.count()).toBeGreaterThan(0);
      const text = await bad.last().textContent();
      expect(text).toContain('k8s.delete_namespace');
      for (const rule of first.intended) expect(await page.locator('main').textContent()).toContain(rule);
      await expect(page.locator('[data-chain="verified"]').count()).resolves.toBe(1);
      await page.screenshot({ path: join(shots, 'demo-timeline.png'), fullPage: true });
      const serious = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('the link in a delivered page, followed by a browser, lands on the console’s timeline', async () => {
    const { pipeline, rx } = e2e;
    const task = attackTasks(stories)[0]!.taskId;
    const got = await pollUntil(
      async () => rx.received.map((r) => r.json as { alert?: { task_id: string; link?: string } }),
      (pages) => pages.some((p) => p.alert?.task_id === task && p.alert.link),
      30_000,
      100,
    );
    const link = got.value.find((p) => p.alert?.task_id === task && p.alert.link)!.alert!.link!;
    // An API client on the same link: the 401 without a key, the JSON with one.
    const none = await fetch(link, { headers: { accept: 'application/json' }, redirect: 'manual' });
    expect(none.status).toBe(401);
    const json = await fetch(link, { headers: { authorization: `Bearer ${pipeline.queryApiKey}` } });
    expect(((await json.json()) as { task_id: string }).task_id).toBe(task);

    const tab = await openSignedIn(b.browser, link, pipeline.queryApiKey);
    try {
      const { page } = tab;
      await page.waitForSelector(`[data-page="timeline"][data-task="${task}"]`);
      expect(page.url()).toBe(consoleTaskLink(pipeline.queryApiUrl, TENANT, task));
      // The page's alerts are on the timeline, their evidence highlighted.
      expect(await page.locator('#events > li.evidence').count()).toBeGreaterThan(0);
    } finally {
      await tab.close();
    }
  });
});
