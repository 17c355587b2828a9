import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleTaskLink, timelineLink } from '../services/platform/timeline-link.js';
import { bearer, type Seeded, seedApi } from './helpers/api-seed.js';
import { dropDatabase, uniqueName } from './helpers/stack.js';

// The alert link (`<base>/v1/tasks/<task>?tenant=…`, what the detector puts in every page) has
// two readers: a person's browser, sent to the console's page of the task (where they sign in),
// and API clients, answered the JSON or the auth hook's 401 as before. The redirect reads
// nothing, so it carries only what the link held and answers alike for any task.

/** What Chromium sends when a link is followed. */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

let s: Seeded;
beforeAll(async () => {
  s = await seedApi(uniqueName('t_console_link'));
});
afterAll(async () => {
  await s?.app.close();
  await s?.ch.close();
  if (s) await dropDatabase(s.db);
});

const get = (url: string, headers: Record<string, string> = {}) => s.app.inject({ url, headers });

describe('the alert link, followed by a browser or called by an API client', () => {
  const link = timelineLink('', 'acme', 'acme-parent');

  it('a browser without a key is sent (303) to the console’s timeline of the task, tenant carried', async () => {
    const r = await get(link, { accept: BROWSER });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/console/#/tasks/acme-parent?tenant=acme');
    expect(r.headers.location).toBe(consoleTaskLink('', 'acme', 'acme-parent'));
    expect(r.headers['cache-control']).toBe('no-store');
    expect(String(r.headers.vary)).toMatch(/Accept/);
    // Nothing of the record in the answer: the redirect read nothing.
    expect(r.body).not.toMatch(/reconcile|spiffe|AT-EGR-001|"events"/);
    // The console's page is there, public, and what it links to.
    const page = await get('/console/', { accept: BROWSER });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });

  it('an API client gets the JSON or the 401, as before', async () => {
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html']) {
      const r = await get(link, accept ? { accept } : {});
      expect(r.statusCode, String(accept)).toBe(401);
      expect(r.json().code).toBe('AT_ERR_AUTH_MISSING');
      expect(r.headers['www-authenticate']).toBe('Bearer realm="agenttrail"');
      expect(r.headers.location).toBeUndefined();
      // The same URL answers a browser otherwise: a cache must not hand one's answer to the other.
      expect(String(r.headers.vary)).toMatch(/Accept/);
    }
    // With a key, whatever it accepts: the timeline itself.
    for (const accept of ['application/json', BROWSER]) {
      const r = await get(link, { accept, ...bearer(s.keys.analyst) });
      expect(r.statusCode, accept).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.json().task_id).toBe('acme-parent');
      expect(String(r.headers.vary)).toMatch(/Accept/);
    }
    // A key presented, even a bad one, is an API client: its 401, never a redirect.
    const bad = await get(link, { accept: BROWSER, ...bearer(`${s.keys.analyst.slice(0, -2)}xx`) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('AT_ERR_AUTH_INVALID');
    const header = await get(link, { accept: BROWSER, 'x-api-key': 'ata_nope_nope' });
    expect(header.statusCode).toBe(401);
    // Another tenant's key on acme's link: the API's 404, as before.
    const other = await get(link, { accept: 'application/json', ...bearer(s.keys.globex) });
    expect(other.statusCode).toBe(404);
  });

  it('carries only what the link held, the same way for any task or tenant (no oracle)', async () => {
    // Extra parameters are not carried (the API itself would refuse them: 400).
    const extra = await get(`${link}&limit=5&cursor=abc`, { accept: BROWSER });
    expect(extra.headers.location).toBe('/console/#/tasks/acme-parent?tenant=acme');
    // A task id of any characters stays one encoded path segment of the console's hash route.
    const odd = 'run/42:a+b@c';
    const r = await get(timelineLink('', 'acme', odd), { accept: BROWSER });
    expect(r.headers.location).toBe(`/console/#/tasks/${encodeURIComponent(odd)}?tenant=acme`);
    // Without a tenant: none invented.
    const bare = await get('/v1/tasks/acme-parent', { accept: BROWSER });
    expect(bare.headers.location).toBe('/console/#/tasks/acme-parent');
    // A missing task and another tenant's are answered exactly like acme's own: nothing was read.
    const shape = (x: Awaited<ReturnType<typeof get>>) => ({
      status: x.statusCode,
      body: x.body,
      headers: Object.keys(x.headers)
        .filter((h) => h !== 'date' && h !== 'x-request-id')
        .sort(),
    });
    const own = await get(link, { accept: BROWSER });
    const missing = await get(timelineLink('', 'acme', 'no-such-task'), { accept: BROWSER });
    const globex = await get(timelineLink('', 'globex', 'globex-parent'), { accept: BROWSER });
    expect(shape(missing)).toEqual(shape(own));
    expect(shape(globex)).toEqual(shape(own));
    expect(globex.headers.location).toBe('/console/#/tasks/globex-parent?tenant=globex');
    // Always a path on this origin, never another host.
    for (const x of [extra, r, bare, missing, globex])
      expect(String(x.headers.location)).toMatch(/^\/console\/#\/tasks\//);
  });

  it('an old-format link (/tasks/<tenant>/<task>) reaches the console through the canonical one', async () => {
    const old = await get('/tasks/acme/acme-parent', { accept: BROWSER });
    expect(old.statusCode).toBe(308);
    expect(old.headers.location).toBe(link);
    const next = await get(String(old.headers.location), { accept: BROWSER });
    expect(next.headers.location).toBe('/console/#/tasks/acme-parent?tenant=acme');
  });

  it('the export and other routes are not redirected; the contract documents the 303', async () => {
    const exp = await get('/v1/tasks/acme-parent/export?tenant=acme', { accept: BROWSER });
    expect(exp.statusCode).toBe(401);
    const doc = (await get('/openapi.json')).json();
    expect(Object.keys(doc.paths['/v1/tasks/{task}'].get.responses)).toContain('303');
    expect(Object.keys(doc.paths['/v1/tasks/{task}/export'].get.responses)).not.toContain('303');
  });
});
