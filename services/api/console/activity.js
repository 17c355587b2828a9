// @ts-check
import { svg } from './dom.js';

// Per-agent activity: the agent's actions per time bin (a minute, or wider so at most 120 bins
// span them), its alerts marked where they were raised, so a burst and its alert line up.

const W = 1000;
const H = 80;
const MAX_BINS = 120;

/**
 * @param {Array<{ occurred_at: string }>} actions newest first or any order
 * @param {Array<{ occurred_at: string, rule_id: string, severity: string }>} alerts
 * @returns {SVGElement}
 */
export function activity(actions, alerts) {
  const times = actions.map((a) => Date.parse(a.occurred_at)).filter(Number.isFinite);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const binMs = Math.max(60_000, Math.ceil((t1 - t0 + 1) / MAX_BINS / 60_000) * 60_000);
  const bins = Math.max(1, Math.ceil((t1 - t0 + 1) / binMs));
  const counts = new Array(bins).fill(0);
  for (const t of times) counts[Math.min(bins - 1, Math.floor((t - t0) / binMs))]++;
  const top = Math.max(1, ...counts);
  const bw = W / bins;
  const bars = counts.map((c, i) =>
    svg(
      'rect',
      {
        x: (i * bw).toFixed(1),
        y: (H - 14 - (c / top) * (H - 20)).toFixed(1),
        width: Math.max(1, bw - 1).toFixed(1),
        height: ((c / top) * (H - 20)).toFixed(1),
        class: 'lane-ok',
      },
      svg('title', {}, `${new Date(t0 + i * binMs).toISOString().slice(0, 16)}Z: ${c} actions`),
    ),
  );
  const marks = alerts
    .map((a) => ({ a, t: Date.parse(a.occurred_at) }))
    .filter(({ t }) => t >= t0 && t <= t1 + binMs)
    .map(({ a, t }) => {
      const x = (((t - t0) / (bins * binMs)) * W).toFixed(1);
      return svg(
        'rect',
        { x, y: H - 12, width: 4, height: 12, class: 'lane-violation' },
        svg('title', {}, `${a.rule_id} (${a.severity}) at ${a.occurred_at}`),
      );
    });
  return svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      class: 'activity',
      role: 'img',
      'aria-label': `${times.length} actions in ${bins} bins of ${binMs / 60_000} min; ${marks.length} alerts marked`,
    },
    svg('rect', { x: 0, y: 0, width: W, height: H, class: 'lane-bg' }),
    bars,
    marks,
  );
}
