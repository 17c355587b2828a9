import {
  type Condition,
  RULES_ENGINE_VERSION,
  type RuleItem,
  type Scalar,
} from '../../../../schemas/index.js';
import type { Located, ReadResult } from './read.js';
import type { RuleLoadIssue } from './types.js';

// Stage 2 of the rules loader (load.ts): merge the read files in order. Lists extend with
// append, macros are replaced with override, rules are keyed by id; a later file tunes an
// earlier one only through those.

export interface Collected {
  name: string;
  version: string;
  lists: Map<string, Scalar[]>;
  macros: Map<string, Located<Condition>>;
  rules: Map<string, Located<RuleItem>>;
  listLoc: Map<string, Located<unknown>>;
}

/** Stage 2: merge files in order. Later files tune earlier ones through append/override. */
export function collectRules(files: ReadResult[]): { collected: Collected; errors: RuleLoadIssue[] } {
  const errors: RuleLoadIssue[] = [];
  const c: Collected = {
    name: 'rules',
    version: '0.0.0',
    lists: new Map(),
    macros: new Map(),
    rules: new Map(),
    listLoc: new Map(),
  };
  for (const f of files) {
    for (const loc of f.items) {
      const item = loc.value;
      const at = { file: loc.file, line: loc.line };
      if ('required_engine_version' in item) {
        if (item.required_engine_version > RULES_ENGINE_VERSION) {
          errors.push({
            code: 'AT_ERR_RULES_ENGINE_VERSION',
            message: `needs engine version ${item.required_engine_version}; this detector speaks ${RULES_ENGINE_VERSION}`,
            ...at,
          });
        }
      } else if ('ruleset' in item) {
        c.name = item.ruleset.name;
        c.version = item.ruleset.version;
      } else if ('list' in item) {
        const { name, items, append } = item.list;
        const existing = c.lists.get(name);
        if (append) {
          if (existing === undefined) {
            errors.push({
              code: 'AT_ERR_RULES_APPEND_UNKNOWN',
              message: `append to undefined list '${name}'`,
              ...at,
              item: `list ${name}`,
            });
          } else existing.push(...items);
        } else if (existing !== undefined) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `list '${name}' is defined twice (use append: true)`,
            ...at,
            item: `list ${name}`,
          });
        } else {
          c.lists.set(name, [...items]);
          c.listLoc.set(name, { ...loc, value: null });
        }
      } else if ('macro' in item) {
        const { name, condition, override } = item.macro;
        const exists = c.macros.has(name);
        if (exists && !override) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `macro '${name}' is defined twice (use override: true)`,
            ...at,
            item: `macro ${name}`,
          });
        } else if (!exists && override) {
          errors.push({
            code: 'AT_ERR_RULES_APPEND_UNKNOWN',
            message: `override of undefined macro '${name}'`,
            ...at,
            item: `macro ${name}`,
          });
        } else {
          c.macros.set(name, { ...loc, value: condition });
        }
      } else if ('rule' in item) {
        if (c.rules.has(item.rule.id)) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `rule id ${item.rule.id} is used twice`,
            ...at,
            item: `rule ${item.rule.id}`,
          });
        } else c.rules.set(item.rule.id, { ...loc, value: item.rule });
      }
    }
  }
  return { collected: c, errors };
}
