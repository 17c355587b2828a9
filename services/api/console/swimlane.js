// @ts-check
import { svg } from './dom.js';

// A per-task strip of the task's events over time: actions as bars coloured in scope /
// violation, everything else as thin ticks below, so the moment it left scope is seen first.

const W = 1000;
const H = 56;

/**
 * @param {Array<{ seq: number, type: string, event: { occurred_at?: string }, mark?: { in_scope: boolean, rules: string[] } }>} events
 * @returns {SVGElement}
 */
export function swimlane(events) {
  const times = events.map((e) => Date.parse(e.event.occurred_at ?? '')).filter((t) => Number.isFinite(t));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const span = t1 > t0 ? t1 - t0 : 1;
  const x = (/** @type {string | undefined} */ iso) => {
    const t = Date.parse(iso ?? '');
    return Number.isFinite(t) ? 6 + ((t - t0) / span) * (W - 12) : 6;
  };
  const actions = events.filter((e) => e.mark);
  const bad = actions.filter((e) => e.mark && !e.mark.in_scope).length;
  const marks = events.map((e) => {
    const cx = x(e.event.occurred_at).toFixed(1);
    if (!e.mark) {
      return svg(
        'rect',
        { x: cx, y: 40, width: 2, height: 12, class: 'lane-other' },
        svg('title', {}, `seq ${e.seq}: ${e.type}`),
      );
    }
    const v = !e.mark.in_scope;
    return svg(
      'rect',
      { x: cx, y: 4, width: 4, height: 30, class: v ? 'lane-violation' : 'lane-ok' },
      svg('title', {}, `seq ${e.seq}: ${v ? `out of scope ${e.mark.rules.join(', ')}` : 'in scope'}`),
    );
  });
  return svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      class: 'swimlane',
      role: 'img',
      'aria-label': `${actions.length} actions over time, ${bad} out of scope`,
    },
    svg('rect', { x: 0, y: 0, width: W, height: H, class: 'lane-bg' }),
    svg('line', { x1: 0, x2: W, y1: 37, y2: 37, class: 'lane-axis' }),
    marks,
  );
}
