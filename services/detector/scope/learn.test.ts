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

describe('learnScope with targets', () => {
  const runs = [
    {
      tool: 'mail.send',
      operation: 'transfer' as const,
      resource: 'file:inv-1.pdf',
      targets: [
        { kind: 'resource' as const, value: 'file:inv-1.pdf' },
        { kind: 'recipient' as const, value: 'ana@acme.example', form: 'email' as const },
        { kind: 'recipient' as const, value: '#ops-*' },
      ],
    },
    {
      tool: 'bank.send_money',
      operation: 'transfer' as const,
      targets: [{ kind: 'account' as const, value: 'DE89370400440532013000' }],
    },
  ];
  const scope = Scope.parse(learnScope(runs));

  it('learns recipients by kind, literally, and never their host into egress', () => {
    expect(scope.egress).toEqual([]);
    expect(scope.recipients).toEqual({
      emails: ['ana@acme.example'],
      accounts: ['DE89370400440532013000'],
      chat_users: [],
      chat_channels: ['#ops-\\*'],
      urls: [],
    });
  });

  it('the learnt scope allows the runs it came from and nothing next to them', () => {
    for (const a of runs)
      expect(evaluateAction(scope, { ...a, data_classes: [] }).allowed, a.tool).toBe(true);
    const other = {
      tool: 'mail.send',
      operation: 'transfer' as const,
      resource: 'file:inv-1.pdf',
      data_classes: [],
      targets: [
        { kind: 'resource' as const, value: 'file:inv-1.pdf' },
        { kind: 'recipient' as const, value: 'bob@acme.example' },
        { kind: 'recipient' as const, value: '#ops-general' },
      ],
    };
    expect(evaluateAction(scope, other).violations.map((v) => v.detail)).toEqual([
      expect.stringContaining("'bob@acme.example'"),
      expect.stringContaining("'#ops-general'"),
    ]);
  });
});
