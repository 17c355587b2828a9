// @ts-check
import { api, download, query } from './api.js';
import { agentHref, h, taskHref, when, who } from './dom.js';
import { swimlane } from './swimlane.js';

// The task timeline (#/tasks/<task>): what the task declared beside what the agent did, in
// order, each action marked in scope or with the rules it broke and the scope element it left;
// approvals at the action they covered; the chain verdict as a banner over everything.

/** @typedef {any} Json */

/** @param {Json} scope */
function scopeView(scope) {
  if (!scope) return h('p', { class: 'muted' }, 'No scope declared.');
  const list = (/** @type {string[] | undefined} */ xs) => (xs?.length ? xs.join(', ') : '—');
  const rule = (/** @type {Json} */ r) =>
    h(
      'li',
      {},
      h('code', {}, list(r.tools)),
      ' ',
      r.operations?.length ? list(r.operations) : 'any operation',
      r.resources?.length ? [' on ', h('code', {}, list(r.resources))] : '',
    );
  return h(
    'dl',
    { class: 'scope' },
    h('dt', {}, 'allow'),
    h('dd', {}, scope.allow?.length ? h('ul', {}, scope.allow.map(rule)) : '—'),
    scope.deny?.length ? [h('dt', {}, 'deny'), h('dd', {}, h('ul', {}, scope.deny.map(rule)))] : null,
    h('dt', {}, 'egress'),
    h('dd', {}, list(scope.egress)),
    h('dt', {}, 'data classes'),
    h('dd', {}, list(scope.data_classes)),
    h('dt', {}, 'approval for'),
    h(
      'dd',
      {},
      scope.approvals?.required_for?.length
        ? scope.approvals.required_for
            .map((/** @type {Json} */ r) => list(r.operations ?? r.tools))
            .join('; ')
        : '—',
      scope.approvals?.approvers?.length ? ` by ${scope.approvals.approvers.join(', ')}` : '',
    ),
  );
}

/** @param {Json} chain */
function banner(chain) {
  const ok = chain.status === 'verified';
  const gaps = chain.gaps?.length
    ? h(
        'p',
        {},
        'Missing seq: ',
        chain.gaps
          .map((/** @type {Json} */ g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`))
          .join(', '),
      )
    : null;
  const altered = chain.altered?.length
    ? h('p', {}, 'Altered after recording: seq ', chain.altered.join(', '))
    : null;
  const broken = chain.broken_links?.length
    ? h('p', {}, 'Broken links at seq ', chain.broken_links.join(', '))
    : null;
  return h(
    'section',
    {
      class: `banner ${ok ? 'banner-ok' : 'banner-bad'}`,
      role: ok ? 'status' : 'alert',
      'data-chain': chain.status,
    },
    h('strong', {}, ok ? 'Record verified' : `Record ${String(chain.status).toUpperCase()}`),
    h('p', {}, chain.sentence),
    gaps,
    altered,
    broken,
  );
}

const plural = (/** @type {number} */ n, /** @type {string} */ w) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** What an event says, in one line. @param {Json} e */
function describe(e) {
  const d = e.event?.data ?? {};
  switch (e.type) {
    case 'action':
      return [
        h('code', {}, d.tool),
        ' ',
        d.operation,
        d.resource
          ? [
              ' ',
              h(
                'a',
                { href: `#/resources?glob=${encodeURIComponent(d.resource)}`, title: 'Who else touched it' },
                h('code', {}, d.resource),
              ),
            ]
          : '',
        d.destination ? [' → ', h('code', {}, d.destination)] : '',
        ` (${d.outcome ?? '?'})`,
      ];
    case 'task.declared':
      return ['declared: ', d.intent ?? '', d.declared_by ? ` (by ${who(d.declared_by)})` : ''];
    case 'task.scope_changed':
      return ['scope changed: ', d.reason ?? '', d.approval_id ? ` (approval ${d.approval_id})` : ''];
    case 'task.delegated':
      return ['delegated to ', h('a', { href: taskHref(d.child_task_id) }, d.child_task_id)];
    case 'task.ended':
      return ['ended: ', d.outcome ?? '', d.summary ? ` — ${d.summary}` : ''];
    case 'credential.issued':
      return ['credential ', h('code', {}, d.credential_id), ' issued', d.kind ? ` (${d.kind})` : ''];
    case 'credential.revoked':
      return ['credential ', h('code', {}, d.credential_id), ' revoked', d.reason ? `: ${d.reason}` : ''];
    case 'approval.requested':
      return ['approval ', h('code', {}, d.approval_id), ' requested', d.context ? `: ${d.context}` : ''];
    case 'approval.granted':
      return ['approval ', h('code', {}, d.approval_id), ' granted by ', who(d.approver)];
    case 'approval.denied':
      return ['approval ', h('code', {}, d.approval_id), ' denied by ', who(d.approver)];
    default:
      return [e.type];
  }
}

/** @param {Json} mark */
function markView(mark) {
  if (mark.in_scope) return h('span', { class: 'badge badge-ok' }, 'in scope');
  return h(
    'div',
    { class: 'violation' },
    h('span', { class: 'badge badge-bad' }, 'out of scope'),
    mark.rules.map((/** @type {string} */ r) => h('span', { class: 'badge rule' }, r)),
    mark.left_scope.length
      ? h(
          'ul',
          { class: 'left-scope' },
          mark.left_scope.map((/** @type {Json} */ l) =>
            h('li', {}, h('code', {}, l.element), ': ', l.detail),
          ),
        )
      : null,
  );
}

/**
 * Risk signals observed on an action (a first use, an outlier): context beside the scope mark.
 * @param {Json[]} list
 */
function signalsView(list) {
  return h(
    'ul',
    { class: 'risk-signals', 'aria-label': 'risk signals' },
    list.map((x) =>
      h('li', {}, h('span', { class: 'badge rule' }, x.rule_id), ` +${x.score} `, x.explanation),
    ),
  );
}

/** @param {Json} approval */
function approvalView(approval) {
  const g = approval.granted;
  return h(
    'div',
    { class: `approval approval-${approval.decision}` },
    h('strong', {}, `Approval ${approval.approval_id}: ${approval.decision}`),
    g ? [' by ', who(g.approver), ' at ', when(g.at)] : '',
    approval.requested?.context ? h('p', {}, 'Context: ', approval.requested.context) : null,
    g?.context ? h('p', {}, 'Approver note: ', g.context) : null,
  );
}

/** @param {Json} t */
function eventList(t) {
  const approvals = new Map(t.approvals.map((/** @type {Json} */ a) => [a.approval_id, a]));
  /** @type {Map<string, Json[]>} */
  const evidence = new Map();
  for (const a of t.alerts) for (const id of a.evidence) evidence.set(id, [...(evidence.get(id) ?? []), a]);
  /** @type {Map<string, Json[]>} */
  const signals = new Map();
  for (const x of t.risk?.signals ?? []) signals.set(x.event_id, [...(signals.get(x.event_id) ?? []), x]);
  return h(
    'ol',
    { class: 'events', id: 'events' },
    t.events.map((/** @type {Json} */ e) => {
      const d = e.event?.data ?? {};
      const alerts = evidence.get(e.event_id) ?? [];
      const approval = e.type === 'action' && d.approval_id ? approvals.get(d.approval_id) : undefined;
      const cls = [
        'event',
        `type-${e.type.replace(/[^a-z]/g, '-')}`,
        e.mark ? (e.mark.in_scope ? 'in-scope' : 'violation') : '',
        alerts.length ? 'evidence' : '',
      ];
      return h(
        'li',
        { class: cls.join(' '), id: `seq-${e.seq}`, 'data-seq': e.seq, 'data-event-id': e.event_id },
        h(
          'div',
          { class: 'event-head' },
          h('span', { class: 'seq' }, `#${e.seq}`),
          h('time', {}, when(e.event?.occurred_at)),
          h('span', { class: 'what' }, describe(e)),
        ),
        e.valid ? null : h('p', { class: 'badge badge-bad' }, 'this stored event does not validate'),
        e.mark ? markView(e.mark) : null,
        signals.has(e.event_id) ? signalsView(signals.get(e.event_id) ?? []) : null,
        approval ? approvalView(approval) : null,
        d.credential_id && e.type === 'action'
          ? h('p', { class: 'muted' }, 'credential ', h('code', {}, d.credential_id))
          : null,
        d.output?.excerpt ? h('pre', { class: 'output' }, d.output.excerpt) : null,
        d.error ? h('p', { class: 'muted' }, 'error: ', d.error) : null,
        alerts.length
          ? h(
              'p',
              { class: 'evidence-of' },
              'Evidence of ',
              alerts.map((/** @type {Json} */ a) =>
                h(
                  'a',
                  {
                    href: `#/alerts?group=${encodeURIComponent(a.dedup_key)}`,
                    class: `badge sev-${a.severity}`,
                  },
                  `${a.rule_id} ${a.title}`,
                ),
              ),
            )
          : null,
      );
    }),
  );
}

/** @param {Json} t */
function credentials(t) {
  if (!t.credentials.length) return null;
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Credentials'),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['credential', 'issued', 'used at seq', 'revoked', 'flags'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        t.credentials.map((/** @type {Json} */ c) =>
          h(
            'tr',
            {},
            h('td', {}, h('code', {}, c.credential_id)),
            h('td', {}, c.issued ? `seq ${c.issued.seq}, ${when(c.issued.at)}` : 'not issued here'),
            h('td', {}, c.used_by.map((/** @type {Json} */ u) => u.seq).join(', ') || '—'),
            h('td', {}, c.revoked ? `seq ${c.revoked.seq}, ${when(c.revoked.at)}` : '—'),
            h(
              'td',
              {},
              [
                c.never_issued_here ? 'never issued in this task' : '',
                c.used_after_revocation ? 'used after revocation' : '',
              ]
                .filter(Boolean)
                .join('; ') || '—',
            ),
          ),
        ),
      ),
    ),
  );
}

/** @param {Json} t */
function delegation(t) {
  const { parent, children } = t.delegation;
  if (!parent && !children.length) return null;
  const verdict = (/** @type {Json} */ x) =>
    x.subset === true
      ? h('span', { class: 'badge badge-ok' }, 'subset')
      : x.subset === false
        ? h('span', { class: 'badge badge-bad' }, 'wider than its parent')
        : h('span', { class: 'badge' }, 'unknown');
  const widenings = (/** @type {Json} */ x) =>
    x.widenings?.length
      ? h(
          'ul',
          { class: 'left-scope' },
          x.widenings.map((/** @type {Json} */ w) => h('li', {}, h('code', {}, w.element), ': ', w.detail)),
        )
      : null;
  return h(
    'section',
    { class: 'card delegation' },
    h('h2', {}, 'Delegation'),
    parent
      ? h(
          'p',
          {},
          'Parent ',
          h('a', { href: taskHref(parent.task_id) }, parent.task_id),
          ' ',
          verdict(parent),
          widenings(parent),
        )
      : null,
    children.length
      ? h(
          'ul',
          { class: 'tree' },
          children.map((/** @type {Json} */ c) =>
            h(
              'li',
              {},
              h('a', { href: taskHref(c.task_id) }, c.task_id),
              c.agent_id ? ` (${c.agent_id}) ` : ' ',
              verdict(c),
              widenings(c),
            ),
          ),
        )
      : null,
  );
}

/**
 * @param {HTMLElement} root @param {string} task
 * @param {string} [tenant] from the link (#/tasks/<task>?tenant=…, as in the alert link): passed
 *   on as the API's check, so a key of another tenant gets the 404 page, never a task of the
 *   same id in its own tenant
 */
export async function timelinePage(root, task, tenant) {
  const t = await api(`/v1/tasks/${encodeURIComponent(task)}${query({ tenant })}`);
  const s = t.summary;
  root.replaceChildren(
    h(
      'div',
      { class: 'page', 'data-page': 'timeline', 'data-task': t.task_id },
      h('h1', {}, 'Task ', h('code', {}, t.task_id)),
      banner(t.chain),
      s.events_shown < s.events
        ? h(
            'p',
            { class: 'banner banner-bad', role: 'note' },
            `This task has ${s.events} events; the first ${s.events_shown} are shown. The export holds them all; the verdict above covers them all.`,
          )
        : null,
      h(
        'p',
        { class: 'summary' },
        t.agent ? ['Agent ', h('a', { href: agentHref(t.agent.id) }, t.agent.id), ' · '] : '',
        `${plural(s.actions, 'action')}, ${s.out_of_scope_actions} out of scope, ${plural(s.alerts, 'alert')}, ${s.events_shown} of ${plural(s.events, 'event')} shown`,
        t.risk?.signals.length
          ? ` · risk score ${t.risk.score} (${plural(t.risk.signals.length, 'signal')})`
          : '',
        t.parent_task_id
          ? [' · parent ', h('a', { href: taskHref(t.parent_task_id) }, t.parent_task_id)]
          : '',
        ' · ',
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            id: 'export-task',
            onclick: () =>
              void download(
                `/v1/tasks/${encodeURIComponent(t.task_id)}/export${query({ tenant, format: 'ndjson' })}`,
                `${t.task_id.replace(/[^\w.-]/g, '_')}.ndjson`,
                'application/x-ndjson',
              ),
          },
          'Export NDJSON (with the chain verdict)',
        ),
      ),
      h(
        'figure',
        { class: 'card' },
        swimlane(t.events),
        h('figcaption', {}, 'Actions over time: green in scope, red out of scope; ticks are other events.'),
      ),
      h(
        'div',
        { class: 'columns' },
        h(
          'aside',
          { class: 'card declared', 'aria-label': 'Declared intent and scope' },
          h('h2', {}, 'Declared'),
          t.declared
            ? [
                h('p', { class: 'intent' }, t.declared.intent ?? '(no intent given)'),
                h('p', { class: 'muted' }, 'by ', who(t.declared.declared_by), ' at ', when(t.declared.at)),
                scopeView(t.declared.scope),
              ]
            : h('p', { class: 'badge badge-bad' }, 'The task never declared a scope.'),
          t.scope_changes.map((/** @type {Json} */ c) =>
            h(
              'div',
              { class: 'scope-change' },
              h('h3', {}, `Scope change at seq ${c.seq}`),
              h(
                'p',
                {},
                c.reason ?? '',
                ` (by ${who(c.changed_by)}) — `,
                c.approved
                  ? `approved by ${who(c.approval?.approver)}`
                  : h('span', { class: 'badge badge-bad' }, 'not approved'),
              ),
              scopeView(c.scope),
            ),
          ),
        ),
        h(
          'section',
          { class: 'card actions', 'aria-label': 'What the agent did' },
          h('h2', {}, 'What happened'),
          eventList(t),
        ),
      ),
      credentials(t),
      delegation(t),
    ),
  );
}
