import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCaseEvents, type RuleCase } from '../../../scenarios/rule-case.js';
import type { DetectorConfigInput } from '../config.js';
import { createDetector } from '../engine.js';
import { MISSING_VAR } from './alert.js';
import { BUILTIN_RULE_IDS } from './catalogue.js';
import { loadDefaultRules } from './default-rules.js';

// Rule tests are data: rules/tests/<rule-id>.yaml, events in, expected alerts out. Every rule
// (built-in and sequence) must have a file with at least one hit and one near miss.

const dir = join(import.meta.dirname, '../../../rules/tests');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const ruleSet = loadDefaultRules();

interface RuleTestFile {
  rule: string;
  config?: DetectorConfigInput;
  cases: RuleCase[];
}

function run(file: RuleTestFile, c: RuleCase) {
  const detector = createDetector({ rules: ruleSet, config: file.config ?? {}, clock: () => 0 });
  const alerts = buildCaseEvents(c).flatMap((e) => detector.process(e));
  alerts.push(...detector.flush());
  return alerts;
}

describe('rule tests (rules/tests/*.yaml)', () => {
  it('cover every built-in and sequence rule with a hit and a near miss', () => {
    const ids = [...BUILTIN_RULE_IDS, ...ruleSet.rules.map((r) => r.meta.id)];
    const byRule = new Map(
      files.map((f) => [f.replace(/\.yaml$/, ''), parse(readFileSync(join(dir, f), 'utf8')) as RuleTestFile]),
    );
    for (const id of ids) {
      const file = byRule.get(id);
      expect(file, `rules/tests/${id}.yaml`).toBeDefined();
      expect(
        file!.cases.some((c) => c.expect?.includes(id)),
        `${id}: a hit`,
      ).toBe(true);
      expect(
        file!.cases.some((c) => c.expect_none || c.expect_not?.includes(id)),
        `${id}: a near miss`,
      ).toBe(true);
    }
  });

  for (const f of files) {
    const file = parse(readFileSync(join(dir, f), 'utf8')) as RuleTestFile;
    describe(file.rule, () => {
      for (const c of file.cases) {
        it(c.name, () => {
          const alerts = run(file, c);
          const fired = alerts.map((a) => a.rule_id);
          // A rule listed n times must fire at least n times (overlapping matches are all reported).
          const want = new Map<string, number>();
          for (const id of c.expect ?? []) want.set(id, (want.get(id) ?? 0) + 1);
          for (const [id, n] of want) {
            expect(
              fired.filter((x) => x === id).length,
              `${id} in [${fired.join(', ')}]`,
            ).toBeGreaterThanOrEqual(n);
          }
          for (const id of c.expect_not ?? []) expect(fired, `${id} must not fire`).not.toContain(id);
          if (c.expect_none) expect(fired).toEqual([]);
          // Every alert names its evidence, and ids are unique (deterministic, no double alerts).
          expect(new Set(alerts.map((a) => a.alert_id)).size).toBe(alerts.length);
          // Every template is filled for every event that triggers it: no placeholder lacks a value.
          for (const a of alerts) expect(a.explanation, a.rule_id).not.toMatch(MISSING_VAR);
          for (const [id, phrases] of Object.entries(c.explain ?? {})) {
            const of = alerts.filter((a) => a.rule_id === id);
            expect(of.length, `${id} fired to check its wording`).toBeGreaterThan(0);
            for (const a of of) for (const p of phrases) expect(a.explanation).toContain(p);
          }
          for (const [id, phrases] of Object.entries(c.explain_not ?? {})) {
            for (const a of alerts.filter((x) => x.rule_id === id))
              for (const p of phrases) expect(a.explanation).not.toContain(p);
          }
        });
      }
    });
  }
});
