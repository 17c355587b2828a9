import { isSeq, LineCounter, parseDocument } from 'yaml';
import { RulesFileItem } from '../../../../schemas/index.js';
import type { RuleLoadIssue } from './types.js';

// Stage 1 of the rules loader (load.ts): parse one file's YAML, schema-check each item with
// schemas/rule.ts, and remember where each item stands (file and line).

export interface RulesSource {
  /** File name, for locations. */
  name: string;
  text: string;
}

export interface Located<T> {
  value: T;
  file: string;
  line: number;
  index: number;
}

export interface ReadResult {
  items: Located<RulesFileItem>[];
  errors: RuleLoadIssue[];
}

/** Stage 1: parse and schema-check one file. */
export function readRules(source: RulesSource): ReadResult {
  const errors: RuleLoadIssue[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      errors.push({
        code: 'AT_ERR_RULES_YAML',
        message: e.message.split('\n')[0]!,
        file: source.name,
        line: lineCounter.linePos(e.pos[0]).line,
      });
    }
    return { items: [], errors };
  }
  if (doc.contents === null) return { items: [], errors };
  if (!isSeq(doc.contents)) {
    errors.push({
      code: 'AT_ERR_RULES_NOT_A_LIST',
      message: 'a rules file is a YAML list of items',
      file: source.name,
      line: 1,
    });
    return { items: [], errors };
  }
  const items: Located<RulesFileItem>[] = [];
  doc.contents.items.forEach((node, index) => {
    const offset = (node as { range?: [number, number, number] }).range?.[0] ?? 0;
    const line = lineCounter.linePos(offset).line;
    const raw = (node as { toJSON(): unknown }).toJSON();
    const parsed = RulesFileItem.safeParse(raw);
    if (!parsed.success) {
      const kind = raw !== null && typeof raw === 'object' ? Object.keys(raw)[0] : undefined;
      const inner =
        kind !== undefined ? (raw as Record<string, { id?: string; name?: string }>)[kind] : undefined;
      const label = inner?.id ?? inner?.name;
      const issue = parsed.error.issues[0]!;
      errors.push({
        code: 'AT_ERR_RULES_SCHEMA',
        message: `${issue.path.map(String).join('.') || '(item)'}: ${issue.code === 'invalid_union' ? 'not a valid list, macro, rule or header item (check the keys and the condition shapes)' : issue.message}`,
        file: source.name,
        line,
        item: label ? `${kind} ${label}` : `item #${index + 1}`,
      });
      return;
    }
    items.push({ value: parsed.data, file: source.name, line, index });
  });
  return { items, errors };
}
