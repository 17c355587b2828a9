import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statePath } from '../services/platform/state-dir.js';
import { consoleTaskLink, timelineLink } from '../services/platform/timeline-link.js';
import { bearer, type Seeded, seedApi } from './helpers/api-seed.js';
import {
  type AxeViolation,
  axe,
  type ConsoleBrowser,
  launchChromium,
  screenshotDir,
} from './helpers/console-browser.js';
import { BULK_TASK, seedConsole, XSS_OUTPUT, XSS_SIGNAL, XSS_TASK } from './helpers/console-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// The web console (services/api/console/) in headless Chromium against the API over the real
// ClickHouse and Kafka, with seedApi's data and two tasks of its own (markup in a tool output,
// 500 events). Every page built is screenshotted and checked by axe-core.

let s: Seeded;
let b: ConsoleBrowser;
let ctx: BrowserContext;
let page: Page;
let base: string;
const shots = screenshotDir(statePath('test-logs', 'console'));
const dialogs: string[] = [];
const pageErrors: string[] = [];
const axeResults: Record<string, AxeViolation[]> = {};

beforeAll(async () => {
  s = await seedApi(uniqueName('it_console'), { alertStatus: true });
  await seedConsole(s.db);
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  b = await launchChromium();
  ctx = await b.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.setDefaultTimeout(5_000);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) pageErrors.push(m.text());
  });
});
afterAll(async () => {
  console.log('console axe results:', JSON.stringify(axeResults));
  if (pageErrors.length) console.log('console page errors:', pageErrors);
  await ctx?.close();
  await b?.close();
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

async function signIn(key: string, next = '#/alerts') {
  await page.goto(`${base}/console/#/signin?next=${encodeURIComponent(next)}`);
  await page.fill('#key', key);
  await page.press('#key', 'Enter');
}

async function checked(name: string, p: Page = page) {
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const v = await axe(p);
  axeResults[name] = v;
  expect(
    v.filter((x) => x.impact === 'serious' || x.impact === 'critical'),
    `${name}: ${JSON.stringify(v)}`,
  ).toEqual([]);
}

// Page-side code as strings: the test's tsconfig has no DOM library.
const open = (hash: string) => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
const count = (selector: string) =>
  page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`) as Promise<number>;

describe('console (browser)', () => {
  it('is served publicly with a strict CSP, and only its own files', async () => {
    const r = await fetch(`${base}/console/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"])
      expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await r.text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/);
    expect((await fetch(`${base}/console/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base}/console`, { redirect: 'manual' })).status).toBe(308);
    for (const p of ['/console/..%2Fapp.ts', '/console/../routes/console.ts', '/console/nope.js'])
      expect((await fetch(`${base}${p}`)).status, p).toBe(404);
  });

  it('its modules type-check (tsc --checkJs --strict, with the DOM library the repo config lacks)', () => {
    const dir = fileURLToPath(new URL('../services/api/console/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8'), f).toMatch(/^\/\/ @ts-check\n/);
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
    const args = ['--ignoreConfig', '--noEmit', '--allowJs', '--checkJs', '--strict', '--target', 'es2022'];
    args.push('--module', 'es2022', '--moduleResolution', 'bundler', '--lib', 'es2022,dom,dom.iterable');
    const r = spawnSync(process.execPath, [tsc, ...args, ...files.map((f) => join(dir, f))], {
      encoding: 'utf8',
    });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it('sign-in page, and a clear 401 page for a bad key', async () => {
    await page.goto(`${base}/console/`);
    await page.waitForSelector('[data-page="signin"]');
    await checked('signin');
    await signIn(`${s.keys.analyst.slice(0, -2)}xx`);
    await page.waitForSelector('[data-page="error"][data-status="401"]');
    await expect(page.textContent('h1')).resolves.toBe('Sign in again');
    await checked('error-401');
    // The key never went into a URL.
    expect(page.url()).not.toContain('ata_');
  });

  it('timeline: the violation at the right action, the approval at the action it covered', async () => {
    await signIn(s.keys.analyst, '#/tasks/acme-parent');
    await page.waitForSelector('[data-page="timeline"][data-task="acme-parent"]');
    const bad = page.locator('#seq-11');
    await expect(bad.getAttribute('class')).resolves.toContain('violation');
    const badText = await bad.textContent();
    expect(badText).toContain('out of scope');
    expect(badText).toContain('AT-EGR-001');
    expect(badText).toContain('scope.egress');
    expect(badText).toContain('paste.evil.example');
    await expect(page.locator('#seq-4').textContent()).resolves.toContain('in scope');
    const approved = await page.locator('#seq-10 .approval').textContent();
    expect(approved).toContain('ap-1');
    expect(approved).toContain('bob@acme.example');
    expect(approved).toContain('fix a typo in invoice 3');
    await expect(page.locator('[data-chain="verified"]').count()).resolves.toBe(1);
    const delegation = await page.locator('.delegation').textContent();
    expect(delegation).toMatch(/acme-child-ok.*subset/);
    expect(delegation).toMatch(/acme-child-wide.*wider than its parent/);
    // One action left scope (seq 11); seq 3 is an in-scope read that is only evidence of the alert.
    await expect(page.locator('.swimlane .lane-violation').count()).resolves.toBe(1);
    await expect(page.locator('.declared').textContent()).resolves.toContain('reconcile November invoices');
    await checked('timeline');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, 'timeline-phone.png'), fullPage: false });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await checked('timeline-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('tampered and incomplete records show the chain banner', async () => {
    await open('#/tasks/acme-tampered');
    const t = page.locator('[data-chain="tampered"][role="alert"]');
    await t.waitFor();
    expect(await t.textContent()).toContain('TAMPERED');
    expect(await t.textContent()).toContain('seq 3');
    await checked('timeline-tampered');
    await open('#/tasks/acme-gap');
    const g = page.locator('[data-chain="incomplete"]');
    await g.waitFor();
    expect(await g.textContent()).toContain('Missing seq: 3');
  });

  it('attacker-controlled strings render as text', async () => {
    await open(`#/tasks/${XSS_TASK}`);
    await page.waitForSelector(`[data-task="${XSS_TASK}"]`);
    await expect(page.locator('pre.output').textContent()).resolves.toBe(XSS_OUTPUT);
    await expect(
      page.getByText(`"><img src=x onerror=alert('xss-res')>`, { exact: false }).count(),
    ).resolves.toBeGreaterThan(0);
    await expect(page.locator('.intent').textContent()).resolves.toContain('<b>news</b>');
    // The action's risk signal, as text, and the score in the summary.
    await expect(page.locator('.risk-signals').textContent()).resolves.toContain(XSS_SIGNAL);
    await expect(page.locator('.risk-signals').textContent()).resolves.toContain('AT-BASE-003');
    await expect(page.locator('.summary').textContent()).resolves.toContain('risk score 2 (1 signal)');
    expect(await count('main img, main script, main b')).toBe(0);
    expect(dialogs).toEqual([]);
    await checked('timeline-xss');
    // The same strings in the history table.
    await open('#/agents/scraper');
    await page.waitForSelector('[data-page="history"] tr[data-event-id]');
    await expect(page.getByText(`web:"><img src=x onerror=alert('xss-res')>`).count()).resolves.toBe(1);
    expect(await count('main img, main script')).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('a clear 404 page for another tenant’s or a missing task', async () => {
    await open('#/tasks/globex-parent');
    await page.waitForSelector('[data-page="error"][data-status="404"]');
    await checked('error-404');
  });

  it('the alert link in a browser: redirected to the console, signed in, the task’s timeline', async () => {
    // A fresh browser context: no key in its session, as a responder opening a page's link.
    const fresh = await b.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await fresh.newPage();
      p.setDefaultTimeout(5_000);
      const link = timelineLink(base, 'acme', 'acme-parent');
      const res = await p.goto(link);
      // The navigation went through the API's 303 to the console (not its JSON, not a 401).
      expect(res?.request().redirectedFrom()?.url()).toBe(link);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      await p.waitForSelector('[data-page="signin"]');
      const next = '#/tasks/acme-parent?tenant=acme';
      expect(p.url()).toBe(`${base}/console/#/signin?next=${encodeURIComponent(next)}`);
      await p.fill('#key', s.keys.analyst);
      await p.press('#key', 'Enter');
      await p.waitForSelector('[data-page="timeline"][data-task="acme-parent"]');
      expect(p.url()).toBe(consoleTaskLink(base, 'acme', 'acme-parent'));
      expect(await p.locator('#seq-11').textContent()).toContain('AT-EGR-001');
      // The link's tenant is the API's check: a key of another tenant gets the 404 page, not a
      // task of the same id of its own.
      await p.evaluate('sessionStorage.clear()');
      await p.goto(timelineLink(base, 'globex', 'globex-parent'));
      await p.fill('#key', s.keys.analyst);
      await p.press('#key', 'Enter');
      await p.waitForSelector('[data-page="error"][data-status="404"]');
      expect(p.url()).not.toContain('ata_');
    } finally {
      await fresh.close();
    }
  });

  it('inbox: acknowledge and resolve change the alert’s status through the API', async () => {
    await signIn(s.keys.responder, '#/alerts');
    await page.waitForSelector('[data-page="alerts"] article.group');
    const group = page.locator(`article[data-dedup-key="${s.alerts.dedupKey}"]`);
    await expect(group.textContent()).resolves.toContain('critical');
    await page.selectOption('#f-severity', 'medium');
    await page.press('#f-rule', 'Enter');
    // (Locators and polls, not waitForFunction: that evaluates a string, which the CSP refuses.)
    await expect.poll(() => page.locator('article.group').count()).toBe(1);
    await expect(page.locator('article.group').getAttribute('data-dedup-key')).resolves.toBe(
      'AT-DEL-001|acme|acme-child-wide',
    );
    await page.selectOption('#f-severity', '');
    await page.press('#f-rule', 'Enter');
    await group.locator('button.group-toggle[aria-expanded]').click();
    const item = page.locator(`li[data-alert-id="${s.alerts.egress}"]`);
    await item.waitFor();
    await checked('alerts');
    await item.locator('form[data-verb="acknowledge"] input').fill('looking at the paste site transfer');
    await item.locator('form[data-verb="acknowledge"] button').click();
    await page.locator(`li[data-alert-id="${s.alerts.egress}"][data-status="acknowledged"]`).waitFor();
    const status = async () =>
      (await s.app.inject({ url: `/v1/alerts/${s.alerts.egress}`, headers: bearer(s.keys.analyst) })).json();
    expect((await status()).alert.status).toBe('acknowledged');
    await item.locator('form[data-verb="resolve"] input').fill('credential revoked, agent paused');
    await item.locator('form[data-verb="resolve"] input').press('Enter');
    await page.locator(`li[data-alert-id="${s.alerts.egress}"][data-status="resolved"]`).waitFor();
    const after = await status();
    expect(after.alert.status).toBe('resolved');
    expect(JSON.stringify(after.status_history)).toContain('credential revoked, agent paused');
    // Who did it and why, and the page's delivery attempts, on the alert itself.
    await item.locator('button', { hasText: 'Status history' }).click();
    const detail = page.locator(`li[data-alert-id="${s.alerts.egress}"] .alert-detail`);
    await detail.waitFor();
    expect(await detail.textContent()).toMatch(
      /resolved by key \w+ \(responder\): credential revoked, agent paused/,
    );
    expect(await detail.textContent()).toContain('pagerduty attempt 1: failed (HTTP 502)');
    await checked('alert-detail');
    await page.click('#signout');
    await page.waitForSelector('[data-page="signin"]');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('inbox: refreshes in place; an analyst is told acknowledging needs a responder; keyboard use', async () => {
    await signIn(s.keys.analyst, `#/alerts?refresh=2&group=${encodeURIComponent(s.alerts.dedupKey)}`);
    const item = page.locator(`li[data-alert-id="${s.alerts.egress2}"]`);
    await page.locator(`li[data-alert-id="${s.alerts.egress2}"][data-status="firing"]`).waitFor();
    // A mark on the window: still there after the refresh means the page was not reloaded.
    await page.evaluate(() => {
      (globalThis as unknown as Record<string, unknown>).consoleTestMark = 1;
    });
    const reason = item.locator('form[data-verb="acknowledge"] input');
    await reason.focus();
    await page.keyboard.type('an analyst tries');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => item.locator('.action-result').textContent())
      .toContain('needs the responder role');
    await page.locator('#f-rule').focus();
    const ack = await s.app.inject({
      method: 'POST',
      url: `/v1/alerts/${s.alerts.egress2}/acknowledge`,
      headers: bearer(s.keys.responder),
      payload: { reason: 'acknowledged elsewhere' },
    });
    expect(ack.statusCode).toBe(200);
    await page
      .locator(`li[data-alert-id="${s.alerts.egress2}"][data-status="acknowledged"]`)
      .waitFor({ timeout: 8_000 });
    expect(
      await page.evaluate(() => (globalThis as unknown as Record<string, unknown>).consoleTestMark),
    ).toBe(1);
    const toggle = page.locator(
      `article[data-dedup-key="${s.alerts.dedupKey}"] button.group-toggle[aria-expanded]`,
    );
    await toggle.focus();
    await page.keyboard.press('Enter');
    await page
      .locator(`article[data-dedup-key="${s.alerts.dedupKey}"] button.group-toggle[aria-expanded="false"]`)
      .waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, 'alerts-phone.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('agent history pages by the keyset cursor and exports with the key in a header only', async () => {
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await signIn(s.keys.analyst, '#/agents/bulk-bot');
    await page.waitForSelector('[data-page="history"] table.history');
    const ids = () =>
      page
        .locator('tr[data-event-id]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')));
    const first = await ids();
    expect(first).toHaveLength(50);
    await page.click('#older');
    await page.locator('#newer:not([disabled])').waitFor();
    const second = await ids();
    expect(second).toHaveLength(50);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    await page.click('#newer');
    await page.locator('#newer[disabled]').waitFor();
    expect(await ids()).toEqual(first);
    await page.locator('#activity svg.activity').waitFor();
    // From the materialised view (one request), not counted from a page of events.
    expect(await page.locator('#activity svg').getAttribute('aria-label')).toMatch(
      /^538 actions in \d+ bins of 1 min; peak 60 a minute at 2026-11-01 10:0\d UTC; 0 alerts marked$/,
    );
    expect(urls.filter((u) => u.includes('/v1/agents/bulk-bot/activity'))).toHaveLength(1);
    expect(urls.some((u) => u.includes('limit=1000'))).toBe(false);
    await checked('history');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = await readFile((await dl.path())!, 'utf8');
    expect(csv.split('\n')[0]).toContain('event_id');
    expect(csv).toContain('acme-bulk500');
    expect(urls.some((u) => u.includes('ata_'))).toBe(false);
    expect(urls.some((u) => u.includes('/v1/events/export'))).toBe(true);
  });

  it('agent page: actions per minute with the agent’s alerts marked where they happened', async () => {
    await open('#/agents/planner');
    await page.locator('#activity svg.activity').waitFor();
    const api = (
      await s.app.inject({ url: '/v1/agents/planner/activity', headers: bearer(s.keys.analyst) })
    ).json();
    const total = api.minutes.reduce((n: number, m: { actions: number }) => n + m.actions, 0);
    expect(total).toBe(15);
    expect(await page.locator('#activity svg').getAttribute('aria-label')).toMatch(
      new RegExp(`^${total} actions in 2 bins of 1 min; .*; 2 alerts marked$`),
    );
    // Both egress alerts, in the first minute's bar (10:00:12 of 10:00-10:02).
    const marks = page.locator('#activity .activity-alert[data-rule="AT-EGR-001"] rect');
    await expect(marks.count()).resolves.toBe(api.alerts.length);
    const x = Number(await marks.first().getAttribute('x'));
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(500);
    await expect(page.locator('#activity figcaption').textContent()).resolves.toContain('2 alerts');
    await checked('agent-activity');
    await page.emulateMedia({ colorScheme: 'dark' });
    await checked('agent-activity-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('resource search: who touched what matches the glob', async () => {
    await open(`#/resources?glob=${encodeURIComponent('erp:invoices/2026-11-*')}`);
    await page.waitForSelector('[data-page="resources"] section[data-agent="worker"]');
    expect(await page.locator('section[data-agent="planner"]').textContent()).toContain('acme-parent');
    expect(await page.locator('section[data-agent="worker"]').textContent()).toContain('acme-child-ok');
    await checked('resources');
  });

  it('first render of a 500-event timeline (measured, printed)', async () => {
    await signIn(s.keys.analyst, '#/alerts');
    await page.waitForSelector('[data-page="alerts"]');
    const t0 = Date.now();
    await open(`#/tasks/${BULK_TASK}`);
    await page.waitForSelector('#seq-500');
    const ms = Date.now() - t0;
    const inPage = await count('#events > li');
    console.log(`console: first render of a 500-event timeline took ${ms} ms (${inPage} events drawn)`);
    expect(inPage).toBe(500);
    expect(pageErrors).toEqual([]);
  });
});
