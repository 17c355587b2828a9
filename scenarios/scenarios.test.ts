import { describe, expect, it } from 'vitest';
import { AgentEvent } from '../schemas/index.js';
import { createDetector } from '../services/detector/engine.js';
import { loadDefaultRules } from '../services/detector/rules/default-rules.js';
import { ATTACK_SCENARIOS, BENIGN_SCENARIOS, generateScenarios } from './catalogue.js';

const rules = loadDefaultRules();
const scenarios = generateScenarios({ id: 'u' });

function run(events: AgentEvent[]) {
  const d = createDetector({ rules, clock: () => 0 });
  return [...events.flatMap((e) => d.process(e)), ...d.flush()];
}

describe('scenario catalogue', () => {
  it('has at least 12 attacks and 12 benign look-alikes', () => {
    expect(ATTACK_SCENARIOS.length).toBeGreaterThanOrEqual(12);
    expect(BENIGN_SCENARIOS.length).toBeGreaterThanOrEqual(12);
  });

  it('produces valid v1 events', () => {
    for (const s of scenarios)
      for (const e of s.events) expect(AgentEvent.safeParse(e).success, `${s.name} ${e.event_id}`).toBe(true);
  });

  for (const s of scenarios.filter((x) => x.kind === 'attack')) {
    it(`attack ${s.name} raises ${s.intended.join(', ')}`, () => {
      const fired = run(s.events).map((a) => a.rule_id);
      for (const id of s.intended) expect(fired, s.story).toContain(id);
    });
  }

  for (const s of scenarios.filter((x) => x.kind === 'benign')) {
    it(`benign ${s.name} raises nothing`, () => {
      expect(
        run(s.events).map((a) => `${a.rule_id}: ${a.explanation}`),
        s.story,
      ).toEqual([]);
    });
  }
});
