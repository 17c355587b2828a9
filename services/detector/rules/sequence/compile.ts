import { EVENT_TYPES } from '../../../../schemas/index.js';
import type { Collected } from './collect.js';
import { compileRule } from './compile-rule.js';
import type { Located } from './read.js';
import type { CompiledSequenceRule, RuleLoadIssue, RuleSet } from './types.js';

// Stage 3 of the rules loader (load.ts): compile every enabled rule (compile-rule.ts), warn of
// macros and lists nothing uses, and index the rules by the event types they can match.

/** Stage 3: compile the collected items into a RuleSet. */
export function compileRules(c: Collected): {
  ruleSet?: RuleSet;
  errors: RuleLoadIssue[];
  warnings: RuleLoadIssue[];
} {
  const errors: RuleLoadIssue[] = [];
  const warnings: RuleLoadIssue[] = [];
  const usedMacros = new Set<string>();
  const usedLists = new Set<string>();
  const rules: CompiledSequenceRule[] = [];
  for (const loc of c.rules.values()) {
    if (!loc.value.enabled) continue;
    const compiled = compileRule(loc, c, usedMacros, usedLists, errors, warnings);
    if (compiled) rules.push(compiled);
  }
  // Macros compile inside rules, so a list used only by a used macro is marked used there.
  const unused = (kind: 'macro' | 'list', defined: Map<string, Located<unknown>>, used: Set<string>) => {
    for (const [name, loc] of defined)
      if (!used.has(name))
        warnings.push({
          code: kind === 'macro' ? 'AT_WARN_RULES_UNUSED_MACRO' : 'AT_WARN_RULES_UNUSED_LIST',
          message: `${kind} '${name}' is never used`,
          file: loc.file,
          line: loc.line,
          item: `${kind} ${name}`,
        });
  };
  unused('macro', c.macros, usedMacros);
  unused('list', c.listLoc, usedLists);
  if (errors.length > 0) return { errors, warnings };
  const byType = new Map<string, CompiledSequenceRule[]>();
  for (const type of EVENT_TYPES) {
    byType.set(
      type,
      rules.filter((r) => r.types === null || r.types.has(type)),
    );
  }
  return { ruleSet: { name: c.name, version: c.version, rules, byType }, errors, warnings };
}
