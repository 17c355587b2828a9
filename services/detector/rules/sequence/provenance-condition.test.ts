import { describe, expect, it } from 'vitest';
import { buildCaseEvents, type RuleCase } from '../../../../scenarios/rule-case.js';
import { createDetector } from '../../engine.js';
import { loadRules } from './load.js';

// A sequence rule may require a value's provenance (schemas/rule.ts `provenance`): here, "a
// payment to an account that came from a tool's output", which the scope alone cannot say when
// the scope allows the payment. Run through the real loader and detector.

const RULES = `
- required_engine_version: 1
- rule:
    id: AT-SEQ-950
    name: injected_payee
    title: Payment to an account read from a tool's output
    description: d
    severity: critical
    explanation: "{action} pays an account first seen in a tool's output"
    sequence:
      within: 10m
      steps:
        - name: pay
          when:
            all:
              - { field: data.operation, equals: transfer }
              - { provenance: tool_output, field: data.targets }
`;

function alertsFor(payee: string, declared: string[] = []): string[] {
  const loaded = loadRules([{ name: 'test.yaml', text: RULES }]);
  expect(loaded.errors).toEqual([]);
  const c: RuleCase = {
    name: 'x',
    steps: [
      {
        declared: {
          scope: { allow: [{ tools: ['*'] }] },
          ...(declared.length ? { entities: declared.map((of) => ({ kind: 'account', of })) } : {}),
        },
      },
      {
        action: {
          tool: 'files.read',
          operation: 'read',
          entities: [{ kind: 'account', of: 'GB29NWBK60161331926819' }],
        },
      },
      {
        action: {
          tool: 'bank.pay',
          operation: 'transfer',
          targets: [{ kind: 'account', value: payee }],
          entities: [{ kind: 'account', in: 'targets.0.value', of: payee }],
        },
      },
    ],
  };
  const d = createDetector({ rules: loaded.ruleSet!, clock: () => 0 });
  return buildCaseEvents(c)
    .flatMap((e) => d.process(e))
    .map((a) => a.rule_id);
}

describe('sequence condition: provenance', () => {
  it('holds for an account that first appeared in a tool output', () => {
    expect(alertsFor('GB29NWBK60161331926819')).toContain('AT-SEQ-950');
  });
  it('near misses: an account named nowhere before, or named by the declaration', () => {
    expect(alertsFor('DE89370400440532013000')).not.toContain('AT-SEQ-950');
    expect(alertsFor('GB29NWBK60161331926819', ['GB29NWBK60161331926819'])).not.toContain('AT-SEQ-950');
  });
  it('refuses an unknown provenance value at load, naming the field', () => {
    const bad = loadRules([
      { name: 't.yaml', text: RULES.replace('provenance: tool_output', 'provenance: web') },
    ]);
    expect(bad.errors.map((e) => e.code)).toContain('AT_ERR_RULES_SCHEMA');
  });
});
