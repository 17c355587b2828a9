import { describe, expect, it } from 'vitest';
import { loadRules } from './load.js';

// The loader's contract: coded errors with locations, warnings for dead items, rules indexed by type.

const header = `- required_engine_version: 1\n`;
const rule = (id: string, steps: string, extra = '') => `
- rule:
    id: ${id}
    name: r_${id.toLowerCase().replace(/-/g, '_')}
    title: t
    description: d
    severity: low
    explanation: x
    sequence:
      within: 5m
      steps:
${steps}${extra}`;

const load = (text: string) => loadRules([{ name: 'test.yaml', text }]);
const codes = (text: string) => load(text).errors.map((e) => e.code);

describe('loadRules', () => {
  it('compiles a valid rule and indexes it by event type', () => {
    const r = load(
      header +
        rule(
          'AT-SEQ-900',
          `        - name: a\n          when: { field: type, equals: action }\n        - name: b\n          when: { field: type, equals: task.ended }`,
        ),
    );
    expect(r.errors).toEqual([]);
    expect(r.ruleSet!.byType.get('action')!.map((x) => x.meta.id)).toEqual(['AT-SEQ-900']);
    expect(r.ruleSet!.byType.get('credential.issued')).toEqual([]);
  });

  it('reports YAML errors with a line', () => {
    const r = load('- rule: [unclosed');
    expect(r.errors[0]!.code).toBe('AT_ERR_RULES_YAML');
    expect(r.errors[0]!.line).toBeGreaterThan(0);
  });

  it('reports schema errors with the item and its line', () => {
    const r = load(`${header}- rule:\n    id: not-an-id\n    name: x\n`);
    expect(r.errors[0]).toMatchObject({
      code: 'AT_ERR_RULES_SCHEMA',
      file: 'test.yaml',
      line: 2,
      item: 'rule not-an-id',
    });
  });

  it.each([
    [
      'unknown macro',
      rule('AT-SEQ-901', `        - name: a\n          when: { macro: nope }`),
      'AT_ERR_RULES_UNKNOWN_MACRO',
    ],
    [
      'unknown list',
      rule('AT-SEQ-902', `        - name: a\n          when: { field: data.tool, in: { list: nope } }`),
      'AT_ERR_RULES_UNKNOWN_LIST',
    ],
    [
      'ref to a later step',
      rule(
        'AT-SEQ-903',
        `        - name: a\n          when: { field: data.tool, equals: { ref: b.data.tool } }\n        - name: b\n          when: { field: type, equals: action }`,
      ),
      'AT_ERR_RULES_BAD_REF',
    ],
    [
      'absent step last',
      rule(
        'AT-SEQ-904',
        `        - name: a\n          when: { field: type, equals: action }\n        - absent: { field: type, equals: action }`,
      ),
      'AT_ERR_RULES_ABSENT',
    ],
    ['engine too new', `- required_engine_version: 99\n`, 'AT_ERR_RULES_ENGINE_VERSION'],
    [
      'duplicate rule id',
      rule('AT-SEQ-905', `        - name: a\n          when: { field: type, equals: action }`) +
        rule('AT-SEQ-905', `        - name: a\n          when: { field: type, equals: action }`),
      'AT_ERR_RULES_DUPLICATE',
    ],
    [
      'macro cycle',
      `- macro: { name: m1, condition: { macro: m2 } }\n- macro: { name: m2, condition: { macro: m1 } }\n${rule('AT-SEQ-906', `        - name: a\n          when: { macro: m1 }`)}`,
      'AT_ERR_RULES_MACRO_CYCLE',
    ],
    [
      'append to unknown list',
      `- list: { name: l, items: [a], append: true }\n`,
      'AT_ERR_RULES_APPEND_UNKNOWN',
    ],
  ])('%s → %s', (_, text, code) => {
    expect(codes(header + text)).toContain(code);
  });

  it('warns about unused macros and lists and unknown framework ids', () => {
    const r = load(
      `${header}- list: { name: unused_list, items: [a] }\n- macro: { name: unused_macro, condition: { field: type, equals: action } }\n${rule('AT-SEQ-907', `        - name: a\n          when: { field: type, equals: action }`, `\n    frameworks: [XYZ9]`)}`,
    );
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.code).sort()).toEqual([
      'AT_WARN_RULES_UNKNOWN_FRAMEWORK',
      'AT_WARN_RULES_UNUSED_LIST',
      'AT_WARN_RULES_UNUSED_MACRO',
    ]);
  });

  it('lets a later file append to a list and override a macro', () => {
    const base = `${header}- list: { name: tools, items: [a] }\n- macro: { name: m, condition: { field: data.tool, in: { list: tools } } }\n${rule('AT-SEQ-908', `        - name: a\n          when: { macro: m }`)}`;
    const tuning = `- list: { name: tools, items: [b], append: true }\n- macro: { name: m, condition: { field: data.tool, equals: c }, override: true }\n`;
    const r = loadRules([
      { name: 'base.yaml', text: base },
      { name: 'local.yaml', text: tuning },
    ]);
    expect(r.errors).toEqual([]);
  });
});
