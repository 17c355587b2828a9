import { collectRules } from './collect.js';
import { compileRules } from './compile.js';
import { type RulesSource, readRules } from './read.js';
import type { RuleLoadResult, RuleSet } from './types.js';

// The rules loader runs in three stages (after Falco):
//   read    — parse YAML, schema-check each item with schemas/rule.ts, remember file and line
//   collect — merge the files in order: lists (with append), macros (with override), rules by id
//   compile — expand macros and lists, resolve refs, build predicates, index rules by event type
// Every problem has a code (AT_ERR_RULES_* or AT_WARN_RULES_*) and a location. One file per
// stage: read.ts, collect.ts, compile.ts (compile-rule.ts for each rule).

export type { RulesSource } from './read.js';

/** Read, collect and compile rules files (in order: defaults first, then local tuning). */
export function loadRules(sources: readonly RulesSource[]): RuleLoadResult {
  const read = sources.map(readRules);
  const readErrors = read.flatMap((r) => r.errors);
  const { collected, errors: collectErrors } = collectRules(read);
  const { ruleSet, errors, warnings } = compileRules(collected);
  const all = [...readErrors, ...collectErrors, ...errors];
  if (all.length > 0 || ruleSet === undefined) return { ok: false, errors: all, warnings };
  return { ok: true, ruleSet, errors: [], warnings };
}

/** An empty rule set: built-in checks only. */
export function emptyRuleSet(): RuleSet {
  return { name: 'none', version: '0.0.0', rules: [], byType: new Map() };
}
