import { describe, expect, it } from 'vitest';
import { Scope } from '../../../schemas/index.js';
import { evaluateAction } from './evaluate.js';
import { learnScope } from './learn.js';

const benign = [
  { tool: 'slack.read_channel', operation: 'read' as const, resource: 'slack:acme/*' },
  { tool: 'slack.post', operation: 'write' as const, resource: 'slack:acme/*' },
  { tool: 'fs.read', operation: 'read' as const, resource: '/work/report?.pdf' },
  { tool: 'mail.send', operation: 'transfer' as const, destination: 'bob@partner.example' },
];

describe('learnScope', () => {
  const scope = Scope.parse(learnScope(benign));
  const judge = (a: Parameters<typeof evaluateAction>[1]) =>
    evaluateAction(scope, a).violations.map((v) => v.kind);

  it('allows every value it learnt, exactly', () => {
    for (const a of benign) expect(judge({ ...a, data_classes: [] }), a.tool).toEqual([]);
  });

  it('a learnt value with a wildcard character stays one value', () => {
    expect(
      judge({ tool: 'slack.post', operation: 'write', resource: 'slack:acme/general', data_classes: [] }),
    ).toEqual(['resource']);
    expect(
      judge({ tool: 'fs.read', operation: 'read', resource: '/work/report1.pdf', data_classes: [] }),
    ).toEqual(['resource']);
  });

  it('learns egress hosts and splits long resource lists into valid entries', () => {
    expect(scope.egress).toEqual(['partner.example']);
    const many = Array.from({ length: 600 }, (_, i) => ({
      tool: 'fs.read',
      operation: 'read' as const,
      resource: `/work/f${i}`,
    }));
    const big = Scope.parse(learnScope(many));
    expect(big.allow.length).toBe(3);
    expect(evaluateAction(big, { ...many[599]!, data_classes: [] }).allowed).toBe(true);
  });
});
