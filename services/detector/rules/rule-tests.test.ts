import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCaseEvents, type RuleCase } from '../../../scenarios/rule-case.js';
import type { DetectorConfigInput } from '../config.js';
import { createDetector, type Detector } from '../engine.js';
import { MISSING_VAR } from './alert.js';
import { BUILTIN_RULE_IDS } from './catalogue.js';
import { loadDefaultRules } from './default-rules.js';

// Rule tests are data: rules/tests/<rule-id>.yaml, events in, expected alerts out. Every rule
// (built-in and sequence) must have a file with at least one hit and one near miss. A risk-signal
// rule (AT-BASE-001…004: baselines/risk.ts) pages only through other alerts, so its hit is a
// signal kept on a task (`expect_signals`) and its near miss one that is not (`expect_signals_not`).

const dir = join(import.meta.dirname, '../../../rules/tests');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const ruleSet = loadDefaultRules();

const SIGNAL_RULES = ['AT-BASE-001', 'AT-BASE-002', 'AT-BASE-003', 'AT-BASE-004'];

interface Case extends RuleCase {
  /** Risk-signal rules that must be kept on some task of the case (each listed n times: n signals). */
  expect_signals?: string[];
  /** Risk-signal rules no task of the case may hold. */
  expect_signals_not?: string[];
  /** Alert rule id → signal rules its every alert must carry in `risk_signals` ([]: carries none). */
  risk_signals?: Record<string, string[]>;
}

interface RuleTestFile {
  rule: string;
  config?: DetectorConfigInput;
  cases: Case[];
}

function run(file: RuleTestFile, c: Case) {
  const detector = createDetector({ rules: ruleSet, config: file.config ?? {}, clock: () => 0 });
  const alerts = buildCaseEvents(c).flatMap((e) => detector.process(e));
  alerts.push(...detector.flush());
  return { alerts, signals: signalsKept(detector) };
}

function signalsKept(detector: Detector): string[] {
  const out: string[] = [];
  for (const byId of detector.state.tasks.values())
    for (const t of byId.values()) for (const s of t.risk?.signals ?? []) out.push(s.rule);
  return out;
}

function count(list: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of list) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
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
      const signal = SIGNAL_RULES.includes(id);
      expect(
        file!.cases.some((c) => (signal ? c.expect_signals : c.expect)?.includes(id)),
        `${id}: a hit`,
      ).toBe(true);
      expect(
        file!.cases.some((c) =>
          signal ? c.expect_signals_not?.includes(id) : c.expect_none || c.expect_not?.includes(id),
        ),
        `${id}: a near miss`,
      ).toBe(true);
    }
  });

  for (const f of files) {
    const file = parse(readFileSync(join(dir, f), 'utf8')) as RuleTestFile;
    describe(file.rule, () => {
      for (const c of file.cases) {
        it(c.name, () => {
          const { alerts, signals } = run(file, c);
          const fired = alerts.map((a) => a.rule_id);
          // A rule listed n times must fire at least n times (overlapping matches are all reported).
          for (const [id, n] of count(c.expect ?? [])) {
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
          for (const [id, n] of count(c.expect_signals ?? []))
            expect(
              signals.filter((x) => x === id).length,
              `signal ${id} in [${signals.join(', ')}]`,
            ).toBeGreaterThanOrEqual(n);
          for (const id of c.expect_signals_not ?? []) expect(signals, `no signal ${id}`).not.toContain(id);
          // Signals never page by themselves.
          for (const id of SIGNAL_RULES) expect(fired, `${id} is a signal, not an alert`).not.toContain(id);
          for (const [id, want] of Object.entries(c.risk_signals ?? {})) {
            const of = alerts.filter((a) => a.rule_id === id);
            expect(of.length, `${id} fired to check its risk signals`).toBeGreaterThan(0);
            for (const a of of) {
              const carried = (a.risk_signals ?? []).map((s) => s.rule_id);
              if (want.length === 0) expect(carried, `${id} carries no risk signal`).toEqual([]);
              for (const r of want) expect(carried, `${id} carries ${r}`).toContain(r);
              // The explanation names what it carries: the signals are visible where the alert is read.
              for (const s of a.risk_signals ?? []) expect(a.explanation).toContain(s.explanation);
            }
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
