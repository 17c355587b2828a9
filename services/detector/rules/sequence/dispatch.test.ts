import { describe, expect, it } from 'vitest';
import { generateScenarios } from '../../../../scenarios/catalogue.js';
import { OPS_SCOPE } from '../../../../scenarios/fixtures.js';
import type { AgentEvent, Alert } from '../../../../schemas/index.js';
import { createDetector } from '../../engine.js';
import { compileScope } from '../../scope/compile.js';
import { internScope } from '../../state/intern.js';
import { loadDefaultRules } from '../default-rules.js';
import { Dispatcher } from './matcher.js';
import type { EvalEnv } from './predicate.js';
import type { CompiledSequenceRule, RuleSet } from './types.js';

// Dispatch must only skip what cannot match: checked predicate by predicate on every scenario
// event, and end to end against the same rules with dispatch information removed.

const rules = loadDefaultRules();
const scenarios = generateScenarios({ id: 'd' });
const events = scenarios.flatMap((s) => s.events);

/** The same rules without `may*` functions: the dispatcher then visits every rule and step. */
function withoutDispatch(set: RuleSet): RuleSet {
  const strip = (r: CompiledSequenceRule): CompiledSequenceRule => {
    const { mayLeadingAbsent: _a, mayUntil: _u, ...rest } = r;
    return { ...rest, steps: r.steps.map(({ mayWhen: _w, mayGuard: _g, ...s }) => s) };
  };
  const stripped = set.rules.map(strip);
  const byType = new Map(
    [...set.byType].map(([t, list]) => [t, list.map((r) => stripped[set.rules.indexOf(r)]!)]),
  );
  return { ...set, rules: stripped, byType };
}

describe('sequence dispatch', () => {
  it('never skips a step, guard, leading absent or until that the event matches', () => {
    const dispatcher = new Dispatcher(rules);
    const scope = compileScope(internScope(OPS_SCOPE as never));
    let skipped = 0;
    for (const e of events) {
      const plans = dispatcher.plans(e) ?? [];
      for (const rule of rules.byType.get(e.type) ?? []) {
        const plan = plans.find((p) => p.rule === rule);
        // Captures made from the event itself, so `{ref}` comparisons can hold.
        const captures: Record<string, unknown> = {};
        for (const step of rule.steps) for (const c of step.captures) captures[c.key] = c.get(e);
        const env: EvalEnv = { task: undefined, scope, captures };
        rule.steps.forEach((step, i) => {
          const bit = 1 << i;
          if (((plan?.when ?? 0) & bit) === 0) {
            skipped++;
            expect(step.when(e, env), `${rule.meta.id} step ${step.name} on ${e.event_id}`).toBe(false);
          }
          if (step.guard !== undefined && ((plan?.guard ?? 0) & bit) === 0)
            expect(step.guard(e, env), `${rule.meta.id} guard of ${step.name}`).toBe(false);
        });
        if (rule.leadingAbsent !== undefined && !plan?.leadingAbsent)
          expect(rule.leadingAbsent(e, env), `${rule.meta.id} leading absent`).toBe(false);
        if (rule.until !== undefined && !plan?.until) expect(rule.until(e, env)).toBe(false);
      }
    }
    expect(skipped).toBeGreaterThan(events.length); // dispatch does skip work
  });

  it('raises exactly the alerts of undispatched matching, in order and out of order', () => {
    const ids = (alerts: Alert[]) => alerts.map((a) => `${a.rule_id} ${a.alert_id}`).sort();
    const run = (set: RuleSet, list: AgentEvent[]) => {
      const d = createDetector({ rules: set, clock: () => 0 });
      return ids([...list.flatMap((e) => d.process(e)), ...d.flush()]);
    };
    const swapped = [...events];
    for (let i = 0; i + 1 < swapped.length; i += 2)
      [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    const plain = withoutDispatch(rules);
    for (const list of [events, swapped]) {
      const a = run(rules, list);
      expect(a.some((x) => x.startsWith('AT-SEQ-'))).toBe(true);
      expect(a).toEqual(run(plain, list));
    }
  });
});
