// @ts-check
import { alertsPage } from './alerts.js';
import { ApiError, session } from './api.js';
import { h, replace } from './dom.js';
import { historyPage } from './history.js';
import { resourcesPage } from './resources.js';
import { timelinePage } from './timeline.js';

// The console's router: hash routes (#/alerts, #/tasks/<task>[?tenant=<t>], #/signin), so the
// server serves one page and a link from a page or the alerter opens the right view after
// sign-in (services/platform/timeline-link.ts consoleTaskLink is the task route's format).

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
/** @type {(() => void) | undefined} */
let stop;

function signInPage(/** @type {string} */ next) {
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'key',
      name: 'key',
      type: 'password',
      required: true,
      autocomplete: 'off',
      spellcheck: 'false',
      pattern: 'ata_.+',
    })
  );
  main.replaceChildren(
    h(
      'div',
      { class: 'page narrow', 'data-page': 'signin' },
      h('h1', {}, 'Sign in'),
      h(
        'p',
        {},
        'Paste an API key (',
        h('code', {}, 'agenttrail keys create --tenant T --role responder'),
        '). It is kept in this tab only and sent as a Bearer header.',
      ),
      h(
        'form',
        {
          class: 'card signin',
          onsubmit: (ev) => {
            ev.preventDefault();
            session.set(input.value.trim());
            location.hash = next && !next.startsWith('#/signin') ? next : '#/alerts';
          },
        },
        h('label', { for: 'key' }, 'API key'),
        input,
        h('button', { type: 'submit' }, 'Sign in'),
      ),
    ),
  );
  input.focus();
}

/** A clear page for what the API refused. @param {unknown} err */
function errorPage(err) {
  const e = err instanceof ApiError ? err : new ApiError(0, 'AT_ERR_CONSOLE', String(err));
  const title =
    e.status === 401
      ? 'Sign in again'
      : e.status === 403
        ? 'Not allowed'
        : e.status === 404
          ? 'Not found'
          : e.status === 0
            ? 'Something went wrong'
            : `Error ${e.status}`;
  const why =
    e.status === 401
      ? 'The API key is missing, unknown or revoked.'
      : e.status === 403
        ? 'Your key’s role is too low for this.'
        : e.status === 404
          ? 'There is no such task or alert for your key’s tenant.'
          : 'The API did not answer as expected.';
  if (e.status === 401) session.clear();
  main.replaceChildren(
    h(
      'div',
      { class: 'page narrow', 'data-page': 'error', 'data-status': e.status },
      h('h1', {}, title),
      h('p', {}, why),
      h('p', { class: 'muted' }, e.message),
      e.status === 401
        ? h('a', { class: 'button', href: '#/signin' }, 'Sign in')
        : h('a', { href: '#/alerts' }, 'Back to alerts'),
    ),
  );
}

function navBar() {
  const signedIn = Boolean(session.key());
  const task = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'nav-task',
      name: 'task',
      placeholder: 'task id',
      autocomplete: 'off',
      'aria-label': 'Open a task timeline',
    })
  );
  replace(
    nav,
    h('a', { href: '#/alerts', class: 'brand' }, 'AgentTrail'),
    signedIn
      ? [
          h('a', { href: '#/alerts' }, 'Alerts'),
          h('a', { href: '#/events' }, 'History'),
          h('a', { href: '#/resources' }, 'Resources'),
          h(
            'form',
            {
              class: 'nav-task',
              role: 'search',
              'aria-label': 'Open a task',
              onsubmit: (ev) => {
                ev.preventDefault();
                if (task.value.trim()) location.hash = `#/tasks/${encodeURIComponent(task.value.trim())}`;
              },
            },
            task,
            h('button', { type: 'submit' }, 'Open'),
          ),
          h(
            'button',
            {
              type: 'button',
              id: 'signout',
              onclick: () => {
                session.clear();
                location.hash = '#/signin';
              },
            },
            'Sign out',
          ),
        ]
      : null,
  );
}

async function route() {
  stop?.();
  stop = undefined;
  navBar();
  const hash = location.hash || '#/alerts';
  const [path, qs] = hash.slice(1).split('?');
  const params = new URLSearchParams(qs ?? '');
  const parts = (path ?? '').split('/').filter(Boolean);
  if (parts[0] === 'signin') return signInPage(params.get('next') ?? '');
  if (!session.key()) {
    location.hash = `#/signin?next=${encodeURIComponent(hash)}`;
    return;
  }
  main.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Loading…'));
  try {
    if (parts[0] === 'tasks' && parts[1])
      await timelinePage(main, decodeURIComponent(parts[1]), params.get('tenant') ?? undefined);
    else if (parts[0] === 'alerts' || parts.length === 0) stop = await alertsPage(main, params);
    else if (parts[0] === 'agents' && parts[1]) await historyPage(main, params, decodeURIComponent(parts[1]));
    else if (parts[0] === 'events') await historyPage(main, params);
    else if (parts[0] === 'resources') await resourcesPage(main, params);
    else throw new ApiError(404, 'AT_ERR_NOT_FOUND', `no console page ${path}`);
    main.focus();
  } catch (err) {
    errorPage(err);
  }
}

window.addEventListener('hashchange', () => void route());
void route();
