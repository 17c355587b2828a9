// @ts-check
import { ApiError, api, query } from './api.js';
import { h, replace, taskHref, when } from './dom.js';

// The alert inbox (#/alerts): open alerts grouped by dedup key, filtered by severity and rule,
// acknowledged or resolved with a reason (responder role), refreshed on a timer in place.

/** Default refresh; `#/alerts?refresh=<seconds>` (2-3600) sets another. */
const REFRESH_MS = 15_000;
const SEVERITIES = ['', 'low', 'medium', 'high', 'critical'];
const OPEN = new Set(['firing', 'acknowledged']);

/** @typedef {any} Json */

/**
 * @param {HTMLElement} root
 * @param {URLSearchParams} params filters from the hash (#/alerts?severity=high&rule=…)
 * @returns {Promise<() => void>} stops the refresh timer
 */
export async function alertsPage(root, params) {
  const state = {
    severity: params.get('severity') ?? '',
    rule: params.get('rule') ?? '',
    open: params.get('all') !== '1',
  };
  const asked = Number(params.get('refresh'));
  const every = asked >= 2 && asked <= 3600 ? asked * 1000 : REFRESH_MS;
  /** alerts whose status history and deliveries are shown */
  const detailed = new Set();
  /** dedup keys whose alerts are shown */
  const expanded = new Set(params.get('group') ? [params.get('group')] : []);
  const list = h('div', { id: 'groups', 'aria-live': 'polite' });
  const stamp = h('p', { class: 'muted', id: 'refreshed' });

  const severity = h(
    'select',
    { id: 'f-severity', name: 'severity' },
    SEVERITIES.map((s) => h('option', { value: s, selected: s === state.severity }, s || 'any')),
  );
  const rule = h('input', {
    id: 'f-rule',
    name: 'rule',
    value: state.rule,
    placeholder: 'AT-EGR-001',
    pattern: '[A-Za-z0-9._-]*',
    autocomplete: 'off',
  });
  const open = h('input', { id: 'f-open', type: 'checkbox', name: 'open', checked: state.open });
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter alerts',
      onsubmit: (ev) => {
        ev.preventDefault();
        state.severity = /** @type {HTMLSelectElement} */ (severity).value;
        state.rule = /** @type {HTMLInputElement} */ (rule).value.trim();
        state.open = /** @type {HTMLInputElement} */ (open).checked;
        void refresh();
      },
    },
    h('label', { for: 'f-severity' }, 'Severity'),
    severity,
    h('label', { for: 'f-rule' }, 'Rule'),
    rule,
    h('label', { class: 'check' }, open, ' open only'),
    h('button', { type: 'submit' }, 'Filter'),
  );

  async function load() {
    // Never redraw under a responder typing a reason.
    if (root.querySelector('form.reason input:focus, form.reason[data-busy]')) return;
    // Severity is filtered here on each group's worst severity: the API's groups answer is a 503
    // with `severity` set (its WHERE names the aggregate; left to the API's owner).
    let groups = (await api(`/v1/alerts/groups${query({ rule: state.rule })}`)).groups;
    if (state.severity) groups = groups.filter((/** @type {Json} */ g) => g.severity === state.severity);
    if (state.open)
      groups = groups.filter((/** @type {Json} */ g) =>
        g.statuses.some((/** @type {string} */ s) => OPEN.has(s)),
      );
    const cards = [];
    for (const g of groups) cards.push(await groupCard(g, expanded.has(g.dedup_key)));
    replace(list, cards.length ? cards : h('p', { class: 'empty' }, 'No alerts match.'));
    replace(stamp, `Refreshed ${new Date().toISOString().slice(11, 19)} UTC; every ${every / 1000} s.`);
  }

  /** A later load (timer, filter, click): a refusal shows beside the stamp, a 401 signs out. */
  async function refresh() {
    try {
      await load();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) location.hash = '#/signin';
      else
        replace(
          stamp,
          h(
            'span',
            { class: 'badge badge-bad', role: 'alert' },
            `Refresh failed: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
    }
  }

  /** @param {Json} g @param {boolean} isOpen */
  async function groupCard(g, isOpen) {
    const body = h('div', { class: 'group-alerts' });
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'link group-toggle',
        'aria-expanded': String(isOpen),
        onclick: async () => {
          if (expanded.has(g.dedup_key)) expanded.delete(g.dedup_key);
          else expanded.add(g.dedup_key);
          await refresh();
        },
      },
      isOpen ? 'Hide alerts' : `Show ${g.alerts} alert${g.alerts === 1 ? '' : 's'}`,
    );
    if (isOpen) {
      const alerts = (await api(`/v1/alerts${query({ dedup_key: g.dedup_key, limit: 50 })}`)).alerts;
      const items = [];
      for (const a of alerts)
        items.push(
          alertItem(
            a,
            detailed.has(a.alert_id) ? await api(`/v1/alerts/${encodeURIComponent(a.alert_id)}`) : null,
          ),
        );
      replace(body, h('ul', { class: 'alert-list' }, items));
    }
    return h(
      'article',
      { class: `card group sev-border-${g.severity}`, 'data-dedup-key': g.dedup_key },
      h(
        'h2',
        {},
        h('span', { class: `badge sev-${g.severity}` }, g.severity),
        ' ',
        g.rules.join(', '),
        ' ',
        h('code', { class: 'dedup' }, g.dedup_key),
      ),
      h(
        'p',
        {},
        `${g.alerts} alert${g.alerts === 1 ? '' : 's'} · ${g.statuses.join(', ')} · first ${when(g.first_at)} · last ${when(g.last_at)} · task `,
        g.tasks.map((/** @type {string} */ t) => h('a', { href: taskHref(t) }, t)),
      ),
      toggle,
      body,
    );
  }

  /** @param {Json} a @param {Json | null} detail */
  function alertItem(a, detail) {
    const msg = h('p', { class: 'action-result', role: 'status' });
    const actions =
      a.status === 'resolved'
        ? null
        : h(
            'div',
            { class: 'alert-actions' },
            a.status === 'firing' ? reasonForm(a, 'acknowledge', msg) : null,
            reasonForm(a, 'resolve', msg),
          );
    return h(
      'li',
      { class: 'alert', 'data-alert-id': a.alert_id, 'data-status': a.status },
      h(
        'p',
        {},
        h('span', { class: `badge sev-${a.severity}` }, a.severity),
        ' ',
        h('strong', {}, a.title),
        ' ',
        h('span', { class: `badge status-${a.status}` }, a.status),
      ),
      h('p', {}, a.explanation),
      h(
        'p',
        { class: 'muted' },
        a.rule_id,
        ' · ',
        when(a.created_at),
        ' · ',
        a.scope_element ? [h('code', {}, a.scope_element), ' · '] : '',
        h('a', { href: taskHref(a.task_id) }, `timeline of ${a.task_id}`),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          'aria-expanded': String(detail !== null),
          onclick: async () => {
            if (detailed.has(a.alert_id)) detailed.delete(a.alert_id);
            else detailed.add(a.alert_id);
            await refresh();
          },
        },
        detail ? 'Hide history' : 'Status history and deliveries',
      ),
      detail ? detailView(detail) : null,
      actions,
      msg,
    );
  }

  /** Who acknowledged or resolved it and why, and every delivery attempt. @param {Json} d */
  function detailView(d) {
    return h(
      'div',
      { class: 'alert-detail' },
      h('h3', {}, 'Status history'),
      d.status_history.length
        ? h(
            'ul',
            { class: 'status-history' },
            d.status_history.map((/** @type {Json} */ r) =>
              h(
                'li',
                {},
                when(r.at),
                ' ',
                h('strong', {}, String(r.type ?? '').replace(/^alert\./, '')),
                ` by key ${r.by?.key_id ?? '?'} (${r.by?.role ?? '?'}): `,
                r.reason,
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No one has acknowledged or resolved it.'),
      h('h3', {}, 'Deliveries'),
      d.deliveries.length
        ? h(
            'ul',
            {},
            d.deliveries.map((/** @type {Json} */ x) =>
              h(
                'li',
                {},
                when(x.at),
                ` ${x.destination} attempt ${x.attempt}: ${x.status}`,
                x.http_status ? ` (HTTP ${x.http_status})` : '',
                x.error ? ` — ${x.error}` : '',
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Not delivered anywhere yet.'),
    );
  }

  /** @param {Json} a @param {'acknowledge' | 'resolve'} verb @param {HTMLElement} msg */
  function reasonForm(a, verb, msg) {
    const id = `reason-${verb}-${a.alert_id}`;
    const input = /** @type {HTMLInputElement} */ (
      h('input', { id, name: 'reason', required: true, maxlength: 1000, autocomplete: 'off' })
    );
    const f = h(
      'form',
      {
        class: 'reason',
        'data-verb': verb,
        onsubmit: async (ev) => {
          ev.preventDefault();
          f.setAttribute('data-busy', '');
          try {
            const r = await api(`/v1/alerts/${encodeURIComponent(a.alert_id)}/${verb}`, {
              method: 'POST',
              body: { reason: input.value },
            });
            replace(msg, `Alert is now ${r.status}.`);
          } catch (err) {
            replace(
              msg,
              h(
                'span',
                { class: 'badge badge-bad' },
                err instanceof ApiError && err.status === 403
                  ? `Your key cannot ${verb}: it needs the responder role.`
                  : String(/** @type {Error} */ (err).message),
              ),
            );
            f.removeAttribute('data-busy');
            return;
          }
          f.removeAttribute('data-busy');
          input.blur();
          await refresh();
        },
      },
      h('label', { for: id }, verb === 'acknowledge' ? 'Acknowledge, because' : 'Resolve, because'),
      input,
      h('button', { type: 'submit' }, verb === 'acknowledge' ? 'Acknowledge' : 'Resolve'),
    );
    return f;
  }

  root.replaceChildren(
    h('div', { class: 'page', 'data-page': 'alerts' }, h('h1', {}, 'Alerts'), form, stamp, list),
  );
  await load(); // a refusal here is the router's error page
  const timer = setInterval(() => void refresh(), every);
  return () => clearInterval(timer);
}
