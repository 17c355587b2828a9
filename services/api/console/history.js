// @ts-check

import { activity } from './activity.js';
import { api, download, query } from './api.js';
import { agentHref, h, replace, taskHref, when } from './dom.js';

// Agent history (#/agents/<agent>, or #/events?… with any of the API's filters): the events
// newest first, a page at a time by the API's keyset cursor, and the same filters exported as
// NDJSON or CSV (fetched with the key, saved from a Blob: no key in a URL).

const FILTERS = ['agent', 'task', 'type', 'tool', 'resource', 'destination', 'outcome', 'from', 'to'];
const PAGE = 50;

/** @typedef {any} Json */

/** @param {HTMLElement} root @param {URLSearchParams} params @param {string} [agent] */
export async function historyPage(root, params, agent) {
  /** @type {Record<string, string>} */
  const filters = {};
  for (const f of FILTERS) filters[f] = params.get(f) ?? '';
  if (agent) filters.agent = agent;
  /** cursors of the pages before this one, for "Newer" */
  const back = /** @type {Array<string | undefined>} */ ([]);
  /** @type {string | undefined} */
  let cursor;
  const table = h('div', { id: 'history', 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const msg = h('p', { class: 'muted', role: 'status' });

  const inputs = FILTERS.map((f) => {
    const id = `h-${f}`;
    const input = /** @type {HTMLInputElement} */ (
      h('input', {
        id,
        name: f,
        value: filters[f],
        autocomplete: 'off',
        placeholder:
          f === 'from' || f === 'to' ? '2026-11-01T00:00:00Z' : f === 'resource' ? 'erp:invoices/**' : '',
      })
    );
    return { f, input, label: h('label', { for: id }, f) };
  });

  async function load() {
    const res = await api(`/v1/events${query({ ...filters, limit: PAGE, cursor })}`);
    replace(
      table,
      res.events.length
        ? h(
            'table',
            { class: 'history' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['when', 'agent', 'task', 'seq', 'type', 'tool', 'resource / destination', 'outcome'].map(
                  (c) => h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              res.events.map((/** @type {Json} */ e) =>
                h(
                  'tr',
                  { 'data-event-id': e.event_id },
                  h('td', {}, when(e.occurred_at)),
                  h('td', {}, h('a', { href: agentHref(e.agent?.id ?? '') }, e.agent?.id ?? '')),
                  h('td', {}, h('a', { href: `${taskHref(e.task_id)}` }, e.task_id)),
                  h('td', {}, e.seq),
                  h('td', {}, e.type),
                  h('td', {}, e.data?.tool ? [h('code', {}, e.data.tool), ' ', e.data.operation ?? ''] : ''),
                  h('td', {}, h('code', {}, e.data?.resource ?? e.data?.destination ?? '')),
                  h('td', {}, e.data?.outcome ?? ''),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'No events match.'),
    );
    const next = res.next_cursor;
    replace(
      pager,
      h(
        'button',
        {
          type: 'button',
          id: 'newer',
          disabled: back.length === 0,
          onclick: () => {
            cursor = back.pop();
            void run();
          },
        },
        'Newer',
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'older',
          disabled: !next,
          onclick: () => {
            back.push(cursor);
            cursor = next;
            void run();
          },
        },
        'Older',
      ),
      h('span', { class: 'muted' }, ` page ${back.length + 1}, ${PAGE} a page`),
    );
  }

  async function run() {
    try {
      await load();
      replace(msg);
    } catch (err) {
      replace(msg, h('span', { class: 'badge badge-bad' }, err instanceof Error ? err.message : String(err)));
    }
  }

  /** @param {'ndjson' | 'csv'} format */
  const exportAs = async (format) => {
    try {
      replace(msg, `Exporting ${format.toUpperCase()}…`);
      const name = `agenttrail-events${filters.agent ? `-${filters.agent.replace(/[^\w.-]/g, '_')}` : ''}.${format}`;
      await download(
        `/v1/events/export${query({ ...filters, format })}`,
        name,
        format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      );
      replace(msg, `Saved ${name}.`);
    } catch (err) {
      replace(msg, h('span', { class: 'badge badge-bad' }, err instanceof Error ? err.message : String(err)));
    }
  };

  const chart = h(
    'figure',
    { class: 'card', id: 'activity' },
    h('p', { class: 'muted' }, 'Loading activity…'),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter events',
      onsubmit: (ev) => {
        ev.preventDefault();
        for (const { f, input } of inputs) filters[f] = input.value.trim();
        back.length = 0;
        cursor = undefined;
        void run();
      },
    },
    inputs.map(({ input, label }) => h('span', { class: 'field' }, label, input)),
    h('button', { type: 'submit' }, 'Search'),
  );
  root.replaceChildren(
    h(
      'div',
      { class: 'page', 'data-page': 'history' },
      h('h1', {}, agent ? ['Agent ', h('code', {}, agent)] : 'Event history'),
      agent ? chart : null,
      form,
      h(
        'p',
        { class: 'exports' },
        h(
          'button',
          { type: 'button', id: 'export-ndjson', onclick: () => void exportAs('ndjson') },
          'Export NDJSON',
        ),
        ' ',
        h('button', { type: 'button', id: 'export-csv', onclick: () => void exportAs('csv') }, 'Export CSV'),
      ),
      msg,
      table,
      pager,
    ),
  );
  await load();
  if (agent) await drawActivity(chart, agent);
}

/**
 * The agent's actions per minute from the API's materialised view (its latest day of active
 * minutes), its alerts marked. @param {HTMLElement} chart @param {string} agent
 */
async function drawActivity(chart, agent) {
  try {
    const a = await api(`/v1/agents/${encodeURIComponent(agent)}/activity`);
    if (!a.minutes.length) return replace(chart, h('p', { class: 'muted' }, 'No actions recorded.'));
    const first = a.minutes[0].minute;
    const last = a.minutes[a.minutes.length - 1].minute;
    replace(
      chart,
      activity(a.minutes, a.alerts),
      h(
        'figcaption',
        {},
        `Actions per minute, ${when(first)} to ${when(last)}${a.more ? ' (the latest active minutes; older ones not shown)' : ''}: failed actions grey; `,
        a.alerts.length
          ? [
              h(
                'span',
                { class: 'badge badge-bad' },
                a.alerts.length === 1 ? '1 alert' : `${a.alerts.length} alerts`,
              ),
              ' marked in red where they happened.',
            ]
          : 'no alerts in this span.',
      ),
    );
  } catch (err) {
    replace(
      chart,
      h('p', { class: 'muted' }, `Activity unavailable: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}
