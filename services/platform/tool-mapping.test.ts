import { describe, expect, it } from 'vitest';
import { parseDocument } from './config-file.js';
import { argumentAt, compileMapping, EMPTY_MAPPING, fillTemplate, MappingFile } from './tool-mapping.js';

const parse = (doc: unknown) => parseDocument(MappingFile, doc, 'files.mapping.yaml');

const mapping = parse({
  version: 1,
  tools: [
    { match: 'read_*', operation: 'read', resource: 'file://{path}' },
    {
      match: ['write_file', 'edit_file'],
      operation: 'write',
      resource: 'file://{path}',
      data_classes: ['internal'],
    },
    { match: 'http_post', operation: 'transfer', destination: '{url}' },
    { match: 'gh_*', operation: 'write', resource: 'github:{repo.owner}/{repo.name}' },
    { match: '**', operation: 'admin' },
  ],
});
const map = compileMapping(mapping);

describe('mapping file', () => {
  it('first matching glob wins and fills targets from argument paths', () => {
    expect(map('read_file', { path: '/work/a.txt' })).toEqual({
      operation: 'read',
      resource: 'file:///work/a.txt',
      data_classes: [],
      targets: [],
      rule: 0,
    });
    expect(map('edit_file', { path: '/w/x' })).toMatchObject({
      operation: 'write',
      data_classes: ['internal'],
      rule: 1,
    });
    expect(map('http_post', { url: 'https://evil.example/x' })).toMatchObject({
      operation: 'transfer',
      destination: 'https://evil.example/x',
    });
    expect(map('gh_push', { repo: { owner: 'acme', name: 'infra' } })).toMatchObject({
      resource: 'github:acme/infra',
    });
    expect(map('anything_else', {})).toMatchObject({ operation: 'admin', rule: 4 });
  });

  it('leaves a target unset when an argument it names is missing or not a scalar', () => {
    expect(map('read_file', {})).toEqual({ operation: 'read', data_classes: [], targets: [], rule: 0 });
    expect(map('read_file', { path: { nested: true } }).resource).toBeUndefined();
    expect(map('gh_push', { repo: { owner: 'acme' } }).resource).toBeUndefined();
  });

  it('an unmapped tool gets the default operation and no rule', () => {
    const m = compileMapping(parse({ version: 1, default: { operation: 'read' }, tools: [] }));
    expect(m('whatever', { path: 'x' })).toEqual({
      operation: 'read',
      data_classes: [],
      targets: [],
      rule: undefined,
    });
    expect(compileMapping(EMPTY_MAPPING)('x', undefined)).toEqual({
      operation: 'execute',
      data_classes: [],
      targets: [],
      rule: undefined,
    });
  });

  it('carries target rules (recipients, accounts) for the SDK to extract from the arguments', () => {
    const m = compileMapping(
      parse({
        version: 1,
        tools: [
          { match: 'send_*', operation: 'transfer', targets: [{ kind: 'recipient', from: 'message.to' }] },
        ],
      }),
    );
    expect(m('send_mail', {}).targets).toEqual([{ kind: 'recipient', from: 'message.to' }]);
    expect(() =>
      parse({
        version: 1,
        tools: [{ match: 'x', operation: 'read', targets: [{ kind: 'recipient', from: 'a b' }] }],
      }),
    ).toThrow(/tools\.0\.targets\.0\.from: must be an argument path/);
    expect(() =>
      parse({
        version: 1,
        tools: [{ match: 'x', operation: 'read', targets: [{ kind: 'inbox', from: 'to' }] }],
      }),
    ).toThrow(/tools\.0\.targets\.0\.kind/);
  });

  it('reads argument paths through objects and arrays, scalars only', () => {
    const args = { a: { b: [{ c: 7 }] }, t: true, s: 'x' };
    expect(argumentAt(args, 'a.b.0.c')).toBe('7');
    expect(argumentAt(args, 't')).toBe('true');
    expect(argumentAt(args, 'a.b')).toBeUndefined();
    expect(argumentAt(undefined, 's')).toBeUndefined();
    expect(fillTemplate('plain', {})).toBe('plain');
    expect(fillTemplate('{s}-{a.b.0.c}', args)).toBe('x-7');
  });

  it.each([
    [{ version: 2 }, 'version: Invalid input: expected 1'],
    [{ version: 1, tools: [{ match: 'x' }] }, 'tools.0.operation: Invalid option'],
    [{ version: 1, tools: [{ match: 'x', operation: 'steal' }] }, 'tools.0.operation: Invalid option'],
    [
      { version: 1, tools: [{ match: 'x', operation: 'read', resource: 'file://{path' }] },
      'tools.0.resource: template has an unbalanced',
    ],
    [
      { version: 1, tools: [{ match: 'x', operation: 'read', destination: '{a b}' }] },
      'tools.0.destination: template placeholder {a b}',
    ],
    [
      { version: 1, tools: [{ match: 'x', operation: 'read', target: 'y' }] },
      'tools.0: unknown field(s): target',
    ],
    [{ version: 1, tools: [{ match: [], operation: 'read' }] }, 'tools.0.match'],
    [{ version: 1, default: { operation: 'nope' } }, 'default.operation: Invalid option'],
  ])('rejects %j naming the field', (doc, want) => {
    expect(() => parse(doc)).toThrow(`files.mapping.yaml: ${want}`);
  });
});
