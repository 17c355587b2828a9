import { describe, expect, it } from 'vitest';
import { OPS_SCOPE } from '../../../scenarios/fixtures.js';
import { Scope } from '../../../schemas/index.js';
import {
  compileGlob,
  compileGlobList,
  destinationHost,
  globCovers,
  globForValue,
} from '../../platform/glob.js';
import { matchTarget, requiresApproval, resourcesOf } from './approval.js';
import { evaluateAction } from './evaluate.js';
import { inferRecipientForm, normaliseRecipient } from './recipients.js';
import { isSubScope } from './subscope.js';

const ops = Scope.parse(OPS_SCOPE);

describe('glob', () => {
  it.each([
    ['github:acme/*', 'github:acme/infra', true],
    ['github:acme/*', 'github:acme/infra/sub', false],
    ['github:acme/**', 'github:acme/infra/sub', true],
    ['/work/**/x.txt', '/work/x.txt', true],
    ['github.*', 'github.create_pr', true],
    ['db:prod/tmp_?', 'db:prod/tmp_1', true],
    ['db:prod/tmp_?', 'db:prod/tmp_12', false],
    ['a.b', 'aXb', false], // dots are literal in path globs
  ])('path %s ~ %s → %s', (pattern, value, want) => {
    expect(compileGlob(pattern)(value)).toBe(want);
  });

  it.each([
    ['*.acme.example', 'ci.acme.example', true],
    ['*.acme.example', 'a.b.acme.example', false],
    ['**.acme.example', 'a.b.acme.example', true],
    ['*.acme.example', 'acme.example', false],
    ['API.github.com', 'api.GITHUB.com', true],
  ])('host %s ~ %s → %s', (pattern, value, want) => {
    expect(compileGlob(pattern, 'host')(value)).toBe(want);
  });

  it.each([
    ['slack:acme/\\*', 'slack:acme/*', true],
    ['slack:acme/\\*', 'slack:acme/general', false],
    ['/work/report\\?.pdf', '/work/report?.pdf', true],
    ['/work/report\\?.pdf', '/work/report1.pdf', false],
    ['literal:/work/**', '/work/**', true],
    ['literal:/work/**', '/work/a', false],
    ['/work/\\*/**', '/work/*/a/b', true],
    ['/work/\\*/**', '/work/x/a', false],
    ['C:\\work\\x', 'C:\\work\\x', true], // a backslash before anything else is itself
  ])('literal %s ~ %s → %s', (pattern, value, want) => {
    expect(compileGlob(pattern)(value)).toBe(want);
    expect(compileGlobList([pattern, 'zz/*'])(value)).toBe(want);
  });

  it.each(['*', 'a?b', 'literal:x', 'C:\\dir\\*', 'plain/value', '**'])(
    'globForValue(%s) matches that value and no other',
    (value) => {
      const g = globForValue(value);
      expect(compileGlob(g)(value)).toBe(true);
      expect(compileGlob(g)(`${value}x`)).toBe(false);
      expect(compileGlob(g, 'host')(value)).toBe(true);
      expect(globCovers(g, g)).toBe(true);
    },
  );

  it('globCovers reads an escaped inner glob as its one value', () => {
    expect(globCovers('slack:acme/*', 'slack:acme/\\*')).toBe(true);
    expect(globCovers('slack:acme/\\*', 'slack:acme/*')).toBe(false);
    expect(globCovers('literal:a/*', 'a/b')).toBe(false);
  });

  it('compiles once and reuses the matcher', () => {
    expect(compileGlob('x/*')).toBe(compileGlob('x/*'));
    expect(compileGlobList(['a', 'b/*'])).toBe(compileGlobList(['a', 'b/*']));
  });

  it.each([
    ['https://user@Hooks.acme.example:8443/path?q', 'hooks.acme.example'],
    ['mailto:bob@evil.example', 'evil.example'],
    ['bob@evil.example', 'evil.example'],
    ['api.github.com', 'api.github.com'],
    ['http://[::1]:80/', '::1'],
  ])('destination host of %s is %s', (dest, host) => {
    expect(destinationHost(dest)).toBe(host);
  });

  it('globCovers is conservative with **', () => {
    expect(globCovers('github:acme/*', 'github:acme/infra')).toBe(true);
    expect(globCovers('github:acme/*', 'github:acme/**')).toBe(false);
    expect(globCovers('github:acme/**', 'github:acme/*')).toBe(true);
  });
});

describe('evaluateAction', () => {
  it('allows a declared action', () => {
    expect(
      evaluateAction(ops, {
        tool: 'github.get_file',
        operation: 'read',
        resource: 'github:acme/x',
        data_classes: [],
      }),
    ).toEqual({
      allowed: true,
      violations: [],
    });
  });

  it('deny wins over allow and is reported as scope.deny', () => {
    const r = evaluateAction(ops, {
      tool: 'github.push',
      operation: 'write',
      resource: 'github:acme/secrets-x',
      data_classes: [],
    });
    expect(r.allowed).toBe(false);
    expect(r.violations.map((v) => v.element)).toEqual(['scope.deny']);
  });

  it('names the most specific allow miss', () => {
    const kind = (a: Parameters<typeof evaluateAction>[1]) => evaluateAction(ops, a).violations[0]?.kind;
    expect(kind({ tool: 'jira.x', operation: 'read', data_classes: [] })).toBe('tool');
    expect(kind({ tool: 'db.query', operation: 'delete', resource: 'db:prod/a', data_classes: [] })).toBe(
      'operation',
    );
    expect(kind({ tool: 'db.query', operation: 'read', resource: 'db:dev/a', data_classes: [] })).toBe(
      'resource',
    );
    expect(kind({ tool: 'db.query', operation: 'read', data_classes: [] })).toBe('resource');
  });

  it('reports egress, data classes and limits together', () => {
    const r = evaluateAction(
      ops,
      { tool: 'http.post', operation: 'write', destination: 'https://evil.example', data_classes: ['pii'] },
      { actionNumber: 41, atMs: Date.now(), skewMs: 0 },
    );
    expect(r.violations.map((v) => `${v.element}:${v.kind}`)).toEqual([
      'scope.egress:egress',
      'scope.data_classes:data_class',
      'scope.limits:max_actions',
    ]);
  });

  it('empty egress allows no destination at all', () => {
    const s = Scope.parse({ allow: [{ tools: ['**'] }] });
    expect(
      evaluateAction(s, { tool: 'x', operation: 'write', destination: 'a.b', data_classes: [] }).violations[0]
        ?.element,
    ).toBe('scope.egress');
  });
});

describe('approvals', () => {
  it('requiresApproval follows scope.approvals.required_for', () => {
    expect(requiresApproval(ops, { tool: 'db.admin', operation: 'delete', resource: 'db:prod/x' })).toBe(
      true,
    );
    expect(requiresApproval(ops, { tool: 'fs.rm', operation: 'delete', resource: '/work/x' })).toBe(false);
  });

  it.each([
    [{ action_id: 'e1' }, 'match'],
    [{ action_id: 'e2' }, 'other_action'],
    [{ tool: 'db.*', operation: 'delete' }, 'match'],
    [{ tool: 'db.admin', operation: 'delete', resource: 'db:prod/other' }, 'other_resource'],
    [{ tool: 'db.admin', operation: 'write' }, 'other_operation'],
    [{ tool: 'fs.*', operation: 'delete' }, 'other_tool'],
  ] as const)('target %j → %s', (target, want) => {
    expect(
      matchTarget(target, 'e1', { tool: 'db.admin', operation: 'delete', resource: 'db:prod/users' }),
    ).toBe(want);
  });
});

describe('isSubScope', () => {
  it('an equal scope is a subset', () => {
    expect(isSubScope(ops, ops)).toEqual({ ok: true, violations: [] });
  });

  it('a narrower scope is a subset', () => {
    const child = Scope.parse({
      allow: [{ tools: ['github.get_file'], operations: ['read'], resources: ['github:acme/infra'] }],
      egress: ['api.github.com'],
      data_classes: ['internal'],
      approvals: OPS_SCOPE.approvals,
      limits: { max_actions: 5 },
    });
    expect(isSubScope(child, ops).violations).toEqual([]);
  });

  it('lists every widening', () => {
    const child = Scope.parse({
      allow: [{ tools: ['github.*'] }],
      egress: ['**'],
      data_classes: ['pii'],
      approvals: { approvers: ['bob@acme.example'] },
    });
    const elements = isSubScope(child, ops).violations.map((v) => v.element);
    expect(elements).toEqual(
      expect.arrayContaining([
        'scope.allow',
        'scope.deny',
        'scope.egress',
        'scope.data_classes',
        'scope.approvals',
        'scope.limits',
      ]),
    );
  });
});

describe('recipients', () => {
  it.each([
    ['emails', 'Mark <Mark@Gmail.COM>', 'mark@gmail.com'],
    ['emails', 'mailto:bob@acme.example?subject=x', 'bob@acme.example'],
    ['accounts', 'iban:de89 3704-0044 0532 0130 00', 'DE89370400440532013000'],
    ['chat_users', '@Alice', 'alice'],
    ['chat_channels', '#General', 'general'],
    ['urls', 'HTTPS://WWW.Acme.example/Docs/', 'acme.example/Docs'],
    ['urls', 'https://user@acme.example/a/?q=1#frag', 'acme.example/a?q=1'],
  ] as const)('%s: %s normalises to %s', (list, value, want) => {
    expect(normaliseRecipient(list, value)).toBe(want);
  });

  it.each([
    ['bob@acme.example', 'email'],
    ['Bob <bob@acme.example>', 'email'],
    ['https://x.example/a', 'url'],
    ['#general', 'chat_channel'],
    ['@bob', 'chat_user'],
    ['U024BE7LH', undefined],
  ] as const)('form of %s is %s', (value, want) => {
    expect(inferRecipientForm(value)).toBe(want);
  });

  it('events without targets are judged exactly as before, scope.recipients or not', () => {
    const withRecipients = Scope.parse({ ...OPS_SCOPE, recipients: { emails: ['x@y.example'] } });
    const action = {
      tool: 'mail.send',
      operation: 'transfer' as const,
      destination: 'bob@evil.example',
      data_classes: [],
    };
    expect(evaluateAction(withRecipients, action)).toEqual(evaluateAction(ops, action));
  });
});

describe('resourcesOf (approvals and sequence scope tests judge every resource)', () => {
  it('is the resource and each further resource target, once each', () => {
    const base = { tool: 'db.admin', operation: 'delete' as const, resource: 'db:a' };
    expect(resourcesOf(base)).toEqual(['db:a']);
    expect(
      resourcesOf({
        ...base,
        targets: [
          { kind: 'resource', value: 'db:a' },
          { kind: 'recipient', value: 'x@y.example' },
          { kind: 'resource', value: 'db:b' },
          { kind: 'resource', value: 'db:b' },
        ],
      }),
    ).toEqual(['db:a', 'db:b']);
    expect(resourcesOf({ tool: 't', operation: 'read', resource: undefined })).toEqual([undefined]);
  });
});
