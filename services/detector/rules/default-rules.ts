import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules } from './sequence/load.js';
import type { RuleSet } from './sequence/types.js';

/** Path of the shipped default rules file. */
export const DEFAULT_RULES_PATH = join(import.meta.dirname, '../../../rules/agenttrail_rules.yaml');

/** Load the shipped rules; throws with every coded error if the file does not compile. */
export function loadDefaultRules(path = DEFAULT_RULES_PATH): RuleSet {
  const result = loadRules([{ name: path, text: readFileSync(path, 'utf8') }]);
  if (!result.ok || result.ruleSet === undefined) {
    throw new Error(
      `rules failed to load: ${result.errors.map((e) => `${e.code} ${e.file}:${e.line ?? '?'} ${e.message}`).join('; ')}`,
    );
  }
  return result.ruleSet;
}
