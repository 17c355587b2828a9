import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from '../../services/platform/config-file.js';
import { loadConfig, ProxyConfig } from './config.js';
import { declarationFromMeta, forwardedMeta, TASK_META_KEY } from './declare.js';

const base = {
  version: 1,
  gateway: { endpoint: 'http://127.0.0.1:8080' },
  tenant: 'acme',
  agent: { id: 'bot' },
  servers: { files: { transport: 'stdio', command: 'node', args: ['server.js'] } },
};

const parse = (doc: unknown) => parseDocument(ProxyConfig, doc, 'proxy.yaml');

describe('proxy config', () => {
  it('applies the defaults', () => {
    const c = parse(base);
    expect(c.mode).toBe('record');
    expect(c.gateway.api_key_env).toBe('AGENTTRAIL_API_KEY');
    expect(c.request_timeout_ms).toBe(60_000);
    expect(c.excerpt_chars).toBe(1024);
    expect(c.servers.files).toMatchObject({ transport: 'stdio', env: {}, tool_prefix: '' });
    expect(c.task).toBeUndefined();
  });

  it.each([
    [{ ...base, mode: 'block' }, 'mode: Invalid option'],
    [{ ...base, servers: {} }, 'servers: must name at least one server'],
    [{ ...base, servers: { files: { transport: 'ws', url: 'x' } } }, 'servers.files.transport'],
    [{ ...base, servers: { files: { transport: 'http', url: 'ftp://x' } } }, 'servers.files.url'],
    [{ ...base, servers: { Files: base.servers.files } }, 'servers.Files: must be a lower-case server name'],
    [
      { ...base, gateway: { endpoint: 'http://x', api_key: 'atk_secret' } },
      'gateway: unknown field(s): api_key',
    ],
    [{ ...base, task: { intent: 'x', scope: { allow: [{ tools: 'read' }] } } }, 'task.scope.allow.0.tools'],
    [{ ...base, task: { scope: {} } }, 'task.intent'],
    [{ ...base, excerpt_chars: 5000 }, 'excerpt_chars'],
    [{ ...base, agent: {} }, 'agent.id'],
  ])('rejects %j naming the field', (doc, want) => {
    expect(() => parse(doc)).toThrow(`proxy.yaml: ${want}`);
  });

  it('resolves mapping files relative to the config, and secrets from env naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-proxy-config-'));
    writeFileSync(
      join(dir, 'files.mapping.yaml'),
      'version: 1\ntools:\n  - { match: read_*, operation: read }\n',
    );
    writeFileSync(
      join(dir, 'proxy.yaml'),
      JSON.stringify({
        ...base,
        servers: {
          files: { ...base.servers.files, mapping: 'files.mapping.yaml', cwd: 'srv' },
          web: {
            transport: 'http',
            url: 'http://127.0.0.1:3000/mcp',
            headers_env: { authorization: 'WEB_TOKEN' },
          },
        },
      }),
    );
    const path = join(dir, 'proxy.yaml');
    expect(() => loadConfig(path, {})).toThrow(
      'gateway.api_key_env refers to AGENTTRAIL_API_KEY, which is not set',
    );
    expect(() => loadConfig(path, { AGENTTRAIL_API_KEY: 'k' })).toThrow(
      'servers.web.headers_env.authorization refers to WEB_TOKEN, which is not set',
    );
    const r = loadConfig(path, { AGENTTRAIL_API_KEY: 'k', WEB_TOKEN: 'Bearer t' });
    expect(r.apiKey).toBe('k');
    const [files, web] = r.servers;
    expect(files?.mappingPath).toBe(join(dir, 'files.mapping.yaml'));
    expect(files?.mapping.tools).toHaveLength(1);
    expect(files?.server).toMatchObject({ cwd: join(dir, 'srv') });
    expect(web?.headers).toEqual({ authorization: 'Bearer t' });
    expect(web?.mapping.tools).toEqual([]);

    writeFileSync(join(dir, 'files.mapping.yaml'), 'version: 1\ntools:\n  - { match: x, operation: nope }\n');
    expect(() => loadConfig(path, { AGENTTRAIL_API_KEY: 'k', WEB_TOKEN: 't' })).toThrow(
      `${join(dir, 'files.mapping.yaml')}: tools.0.operation`,
    );
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow('cannot be read');
  });
});

describe('task declaration in _meta', () => {
  it('is optional, validated naming the field, and stripped before forwarding', () => {
    expect(declarationFromMeta(undefined)).toBeUndefined();
    expect(declarationFromMeta({ progressToken: 1 })).toBeUndefined();
    const decl = declarationFromMeta({
      [TASK_META_KEY]: { intent: 'read docs', scope: { allow: [{ tools: ['read_*'] }] } },
    });
    expect(decl?.scope.allow[0]?.tools).toEqual(['read_*']);
    expect(() => declarationFromMeta({ [TASK_META_KEY]: { intent: 'x', scope: { allow: 'all' } } })).toThrow(
      '_meta["agenttrail/task"].scope.allow',
    );
    expect(forwardedMeta({ [TASK_META_KEY]: {}, progressToken: 3 })).toEqual({ progressToken: 3 });
    expect(forwardedMeta({ [TASK_META_KEY]: {} })).toBeUndefined();
    const other = { progressToken: 'p' };
    expect(forwardedMeta(other)).toBe(other);
  });
});
