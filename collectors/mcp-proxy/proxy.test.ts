import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Scope } from '../../schemas/scope.js';
import { createAgentTrail } from '../../sdk/client.js';
import { memoryTransport } from '../../sdk/test-helpers.js';
import { compileMapping, MappingFile } from '../../services/platform/tool-mapping.js';
import { TASK_META_KEY } from './declare.js';
import { createProxyServer } from './proxy.js';
import { type Mode, TaskRecorder } from './recorder.js';
import { buildFixtureServer, FIXTURE_MAPPING } from './testing/fixture-server.js';
import { PROXY_INFO, type Upstream } from './upstream.js';

// The proxy in one process, over the SDK's in-memory transports: client → proxy server →
// fixture McpServer. The SDK records into a memory transport, so the recorded events are read
// back exactly as they would be sent to the gateway.

const MAPPING = MappingFile.parse(FIXTURE_MAPPING);
const SCOPE = {
  allow: [{ tools: ['read_file', 'echo'], operations: ['read', 'execute'] as const }],
  deny: [{ resources: ['file:///etc/**'] }],
};

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function upstream(name: string, prefix = ''): Promise<Upstream> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  const server = buildFixtureServer(name);
  await server.connect(b);
  const client = new Client(PROXY_INFO);
  await client.connect(a);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  return {
    name,
    client,
    prefix,
    mapper: compileMapping(MAPPING),
    capabilities: client.getServerCapabilities() ?? {},
    instructions: undefined,
    close: () => client.close(),
  };
}

async function setup(opts: { mode: Mode; task?: boolean; upstreams?: Upstream[]; scope?: unknown }) {
  const mem = memoryTransport();
  const trail = createAgentTrail({
    transport: mem.transport,
    tenant: 'acme',
    agent: { id: 'bot' },
    logger: false,
  });
  const recorder = new TaskRecorder({ trail, mode: opts.mode, defaultDeclarer: 'bot', excerptChars: 64 });
  if (opts.task !== false) {
    await recorder.declare({
      task_id: 'task-1',
      intent: 'read the docs',
      scope: Scope.parse(opts.scope ?? SCOPE),
    });
  }
  const ups = opts.upstreams ?? [await upstream('files')];
  const warned: string[] = [];
  const server = createProxyServer(ups, recorder, {
    timeoutMs: 5_000,
    log: pino({ level: 'silent' }),
    hooks: { onUnmapped: (s, t) => warned.push(`${s}/${t}`) },
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'agent', version: '1' });
  await client.connect(a);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  const events = async () => {
    await trail.flush();
    return mem.accepted();
  };
  return { client, events, warned };
}

const actions = (events: Array<{ type: string; data: unknown }>) =>
  events.filter((e) => e.type === 'action').map((e) => e.data as Record<string, unknown>);

describe('mcp proxy (in memory)', () => {
  it('forwards lists, prompts and resources unchanged', async () => {
    const { client } = await setup({ mode: 'record' });
    const direct = (await upstream('files')).client;
    expect(await client.listTools()).toEqual(await direct.listTools());
    expect(await client.listPrompts()).toEqual(await direct.listPrompts());
    expect(await client.getPrompt({ name: 'summarise', arguments: { path: '/a' } })).toEqual(
      await direct.getPrompt({ name: 'summarise', arguments: { path: '/a' } }),
    );
    expect(await client.readResource({ uri: 'file:///work/README.md' })).toEqual(
      await direct.readResource({ uri: 'file:///work/README.md' }),
    );
    expect(client.getServerCapabilities()).toMatchObject({
      tools: {},
      prompts: {},
      resources: {},
      logging: {},
    });
  });

  it('records each call as an action: tool, operation, target, arguments, excerpt, outcome, latency', async () => {
    const { client, events, warned } = await setup({ mode: 'record' });
    const ok = await client.callTool({ name: 'read_file', arguments: { path: '/work/README.md' } });
    expect(ok).toEqual({ content: [{ type: 'text', text: '# project\nhello' }] });
    const failed = await client.callTool({ name: 'read_file', arguments: { path: '/nope' } });
    expect(failed).toEqual({ content: [{ type: 'text', text: 'no such file: /nope' }], isError: true });
    await client.callTool({ name: 'echo', arguments: { text: 'x'.repeat(200) } });
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).resolves.toMatchObject({
      isError: true,
    });

    const a = actions(await events());
    expect(a.map((x) => [x.tool, x.operation, x.outcome])).toEqual([
      ['read_file', 'read', 'ok'],
      ['read_file', 'read', 'error'],
      ['echo', 'execute', 'ok'],
      ['no_such_tool', 'execute', 'error'],
    ]);
    expect(a[0]).toMatchObject({
      resource: 'file:///work/README.md',
      arguments: { path: '/work/README.md' },
      output: { excerpt: '# project\nhello' },
    });
    expect(a[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(a[1]).toMatchObject({ error: 'no such file: /nope' });
    // The SDK's excerpt limit and truncation marker apply unchanged.
    expect((a[2]!.output as { excerpt: string }).excerpt.length).toBeLessThanOrEqual(64);
    expect(a[2]!.adjusted).toEqual([
      { path: 'data.output.excerpt', reason: 'truncated', original_length: 200 },
    ]);
    expect(warned).toEqual(['files/echo', 'files/no_such_tool']);
  });

  it("relays progress under the client's own token", async () => {
    const { client } = await setup({ mode: 'record' });
    const seen: Array<{ progress: number; total?: number }> = [];
    const r = await client.callTool({ name: 'count', arguments: { n: 3 } }, undefined, {
      onprogress: (p) => seen.push({ progress: p.progress, total: p.total }),
    });
    expect(r).toEqual({ content: [{ type: 'text', text: 'counted to 3' }] });
    expect(seen).toEqual([
      { progress: 1, total: 3 },
      { progress: 2, total: 3 },
      { progress: 3, total: 3 },
    ]);
  });

  it('enforce mode refuses an out-of-scope call naming the scope element, and records it denied', async () => {
    const { client, events } = await setup({ mode: 'enforce' });
    await client.callTool({ name: 'read_file', arguments: { path: '/work/README.md' } });
    const err = await client
      .callTool({ name: 'write_file', arguments: { path: '/work/x', content: 'y' } })
      .catch((e: { code: number; message: string; data: unknown }) => e);
    expect(err).toMatchObject({ code: -32003, data: { code: 'AT_ERR_MCP_OUT_OF_SCOPE', task_id: 'task-1' } });
    expect((err as { message: string }).message).toContain(
      "scope.allow: tool 'write_file' is not in scope.allow",
    );
    const denied = await client
      .callTool({ name: 'read_file', arguments: { path: '/etc/passwd' } })
      .catch((e: Error) => e);
    expect((denied as Error).message).toContain('scope.deny');

    const a = actions(await events());
    expect(a.map((x) => [x.tool, x.outcome])).toEqual([
      ['read_file', 'ok'],
      ['write_file', 'denied'],
      ['read_file', 'denied'],
    ]);
    expect(a[1]).toMatchObject({ operation: 'write', resource: 'file:///work/x' });
    expect(String(a[1]!.error)).toContain('scope.allow');
    // Not forwarded: the fixture still has no /work/x.
    const check = await client.callTool({ name: 'read_file', arguments: { path: '/work/x' } });
    expect(check.isError).toBe(true);
  });

  it('records every recipient the mapping names as a target, and enforce mode judges each', async () => {
    const { client, events } = await setup({
      mode: 'enforce',
      scope: {
        allow: [{ tools: ['send_mail'], operations: ['transfer'] }],
        recipients: { emails: ['*@acme.example'] },
      },
    });
    const mail = (to: string[], cc?: string) =>
      client.callTool({ name: 'send_mail', arguments: { to, ...(cc ? { cc } : {}), subject: 'Q3' } });
    expect(await mail(['ann@acme.example', 'bob@acme.example'])).toEqual({
      content: [{ type: 'text', text: 'sent to 2 recipient(s)' }],
    });
    // The second recipient and the cc are judged, not only the first address.
    const refused = await mail(['ann@acme.example'], 'x@evil.example').catch((e: Error) => e);
    expect((refused as Error).message).toContain('x@evil.example');

    const a = actions(await events());
    expect(a.map((x) => x.outcome)).toEqual(['ok', 'denied']);
    expect(a[0]!.targets).toEqual([
      { kind: 'recipient', value: 'ann@acme.example', form: 'email', role: 'to' },
      { kind: 'recipient', value: 'bob@acme.example', form: 'email', role: 'to' },
    ]);
    expect(a[1]!.targets).toEqual([
      { kind: 'recipient', value: 'ann@acme.example', form: 'email', role: 'to' },
      { kind: 'recipient', value: 'x@evil.example', form: 'email', role: 'cc' },
    ]);
  });

  it('takes the task from the first call _meta, strips it, and refuses a different second task', async () => {
    const { client, events } = await setup({ mode: 'record', task: false });
    const none = await client.callTool({ name: 'echo', arguments: { text: 'a' } }).catch((e: Error) => e);
    expect(none).toMatchObject({ data: { code: 'AT_ERR_MCP_NO_TASK' } });
    const decl = { task_id: 'meta-task', intent: 'echo things', scope: { allow: [{ tools: ['echo'] }] } };
    await client.callTool({ name: 'echo', arguments: { text: 'b' }, _meta: { [TASK_META_KEY]: decl } });
    await client.callTool({ name: 'echo', arguments: { text: 'c' }, _meta: { [TASK_META_KEY]: decl } });
    const other = await client
      .callTool({
        name: 'echo',
        arguments: { text: 'd' },
        _meta: { [TASK_META_KEY]: { ...decl, task_id: 'x' } },
      })
      .catch((e: Error) => e);
    expect(other).toMatchObject({ data: { code: 'AT_ERR_MCP_TASK_INVALID' } });
    const bad = await client
      .callTool({ name: 'echo', arguments: { text: 'e' }, _meta: { [TASK_META_KEY]: { intent: '' } } })
      .catch((e: Error) => e);
    expect((bad as Error).message).toContain('_meta["agenttrail/task"].intent');

    const ev = await events();
    expect(ev.map((e) => [e.task_id, e.seq, e.type])).toEqual([
      ['meta-task', 1, 'task.declared'],
      ['meta-task', 2, 'action'],
      ['meta-task', 3, 'action'],
    ]);
    expect(ev[0]!.data).toMatchObject({ declared_by: { kind: 'service', id: 'bot' }, intent: 'echo things' });
  });

  it('merges several servers under their prefixes and routes each call to its owner', async () => {
    const ups = [await upstream('a', 'a.'), await upstream('b', 'b.')];
    const { client, events } = await setup({ mode: 'record', upstreams: ups });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('a.read_file');
    expect(names).toContain('b.echo');
    expect(names).toHaveLength(14);
    await client.callTool({ name: 'b.write_file', arguments: { path: '/w/new', content: 'x' } });
    expect(
      (await client.callTool({ name: 'b.read_file', arguments: { path: '/w/new' } })).isError,
    ).toBeUndefined();
    expect((await client.callTool({ name: 'a.read_file', arguments: { path: '/w/new' } })).isError).toBe(
      true,
    );
    const a = actions(await events());
    // The mapping matches the server's own tool name; the record names what the client called.
    expect(a.map((x) => [x.tool, x.operation])).toEqual([
      ['b.write_file', 'write'],
      ['b.read_file', 'read'],
      ['a.read_file', 'read'],
    ]);
  });
});
