// @ts-check
import { svg } from './dom.js';

// Per-agent activity: the agent's actions per minute as the API's materialised view counts them
// (GET /v1/agents/<agent>/activity), in bins of a minute or wider so at most 120 bins span them,
// failed actions grey at the foot of each bar, and its alerts marked where they happened, a
// line up through the bars, so a burst and its alert line up.

const W = 1000;
const H = 80;
const MAX_BINS = 120;
const MINUTE = 60_000;

/**
 * @typedef {{ minute: string, actions: number, failures: number }} Minute
 * @typedef {{ occurred_at: string, rule_id: string, severity: string, task_id?: string }} AlertMark
 */

/**
 * The minutes summed into bins over [first minute, last minute + 1 min).
 * @param {Minute[]} minutes oldest first (only minutes with actions)
 */
export function bins(minutes) {
  const times = minutes.map((m) => Date.parse(m.minute));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times) + MINUTE;
  const binMs = Math.max(1, Math.ceil((t1 - t0) / MAX_BINS / MINUTE)) * MINUTE;
  const n = Math.max(1, Math.ceil((t1 - t0) / binMs));
  const actions = new Array(n).fill(0);
  const failures = new Array(n).fill(0);
  minutes.forEach((m, i) => {
    const b = Math.min(n - 1, Math.floor(((times[i] ?? t0) - t0) / binMs));
    actions[b] += m.actions;
    failures[b] += m.failures;
  });
  return { t0, t1, binMs, n, actions, failures };
}

/**
 * @param {Minute[]} minutes oldest first
 * @param {AlertMark[]} alerts
 * @returns {SVGElement}
 */
export function activity(minutes, alerts) {
  const { t0, t1, binMs, n, actions, failures } = bins(minutes);
  const total = actions.reduce((a, b) => a + b, 0);
  const peak = minutes.reduce(
    (best, m) => (m.actions > best.actions ? m : best),
    minutes[0] ?? { minute: '', actions: 0 },
  );
  const top = Math.max(1, ...actions);
  const bw = W / n;
  const y = (/** @type {number} */ c) => (c / top) * (H - 20);
  const stamp = (/** @type {number} */ t) =>
    `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const bars = actions.map((c, i) => {
    const x = (i * bw).toFixed(1);
    const width = Math.max(1, bw - 1).toFixed(1);
    const f = failures[i] ?? 0;
    return svg(
      'g',
      {},
      svg('rect', { x, y: (H - 14 - y(c)).toFixed(1), width, height: y(c).toFixed(1), class: 'lane-ok' }),
      f
        ? svg('rect', {
            x,
            y: (H - 14 - y(f)).toFixed(1),
            width,
            height: y(f).toFixed(1),
            class: 'lane-other',
          })
        : null,
      svg('title', {}, `${stamp(t0 + i * binMs)}: ${c} actions${f ? `, ${f} failed` : ''}`),
    );
  });
  const marks = alerts
    .map((a) => ({ a, t: Date.parse(a.occurred_at) }))
    .filter(({ t }) => t >= t0 && t < t1)
    .map(({ a, t }) => {
      const x = ((t - t0) / (n * binMs)) * W;
      return svg(
        'g',
        { class: 'activity-alert', 'data-rule': a.rule_id },
        svg('line', { x1: x.toFixed(1), x2: x.toFixed(1), y1: 0, y2: H - 12, class: 'activity-alert-line' }),
        svg('rect', { x: (x - 2).toFixed(1), y: H - 12, width: 4, height: 12, class: 'lane-violation' }),
        svg(
          'title',
          {},
          `${a.rule_id} (${a.severity}) at ${a.occurred_at}${a.task_id ? ` in ${a.task_id}` : ''}`,
        ),
      );
    });
  return svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      class: 'activity',
      role: 'img',
      'aria-label': `${total} actions in ${n} bins of ${binMs / MINUTE} min; peak ${peak.actions} a minute at ${stamp(Date.parse(peak.minute))}; ${marks.length} alerts marked`,
    },
    svg('rect', { x: 0, y: 0, width: W, height: H, class: 'lane-bg' }),
    bars,
    marks,
  );
}
