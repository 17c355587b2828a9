// @ts-check
import { api, query } from './api.js';
import { agentHref, h, replace, taskHref, when } from './dom.js';

// Resource search (#/resources?glob=…&field=resource|destination): who touched what matches
// the glob (the scopes' syntax: `*` within a segment, `**` across), by agent and task.

/** @typedef {any} Json */

/** @param {HTMLElement} root @param {URLSearchParams} params */
export async function resourcesPage(root, params) {
  const glob = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'r-glob',
      name: 'glob',
      value: params.get('glob') ?? '',
      placeholder: 'erp:invoices/**',
      required: true,
      autocomplete: 'off',
    })
  );
  const field = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'r-field', name: 'field' },
      ['resource', 'destination'].map((f) =>
        h('option', { value: f, selected: params.get('field') === f }, f),
      ),
    )
  );
  const out = h('div', { id: 'touched', 'aria-live': 'polite' });

  async function load() {
    if (!glob.value.trim()) return replace(out, h('p', { class: 'muted' }, 'Enter a glob.'));
    let res;
    try {
      res = await api(`/v1/resources${query({ glob: glob.value.trim(), field: field.value })}`);
    } catch (err) {
      return replace(
        out,
        h('p', { class: 'badge badge-bad', role: 'alert' }, err instanceof Error ? err.message : String(err)),
      );
    }
    replace(
      out,
      res.agents.length
        ? res.agents.map((/** @type {Json} */ a) =>
            h(
              'section',
              { class: 'card', 'data-agent': a.agent_id },
              h('h2', {}, h('a', { href: agentHref(a.agent_id) }, a.agent_id), ` — ${a.actions} actions`),
              h(
                'ul',
                {},
                a.tasks.map((/** @type {Json} */ t) =>
                  h(
                    'li',
                    {},
                    h('a', { href: taskHref(t.task_id) }, t.task_id),
                    ` — ${t.actions} actions (${(t.operations ?? []).join(', ')}), ${when(t.first_at)} to ${when(t.last_at)}: `,
                    (t.values ?? [])
                      .slice(0, 20)
                      .map((/** @type {string} */ v, /** @type {number} */ i) => [
                        i ? ', ' : '',
                        h('code', {}, v),
                      ]),
                    (t.values ?? []).length > 20 ? ` and ${t.values.length - 20} more` : '',
                  ),
                ),
              ),
            ),
          )
        : h('p', { class: 'empty' }, 'Nothing matched.'),
    );
  }

  root.replaceChildren(
    h(
      'div',
      { class: 'page', 'data-page': 'resources' },
      h('h1', {}, 'Resources'),
      h(
        'form',
        {
          class: 'filters',
          role: 'search',
          'aria-label': 'Search resources',
          onsubmit: (ev) => {
            ev.preventDefault();
            void load();
          },
        },
        h('label', { for: 'r-glob' }, 'Glob'),
        glob,
        h('label', { for: 'r-field' }, 'Field'),
        field,
        h('button', { type: 'submit' }, 'Search'),
      ),
      out,
    ),
  );
  await load();
}
