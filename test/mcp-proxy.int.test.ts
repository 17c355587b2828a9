import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { pollUntil, storedAlerts } from '../cli/pipeline/observe.js';
import type { ProxyConfigInput } from '../collectors/mcp-proxy/config.js';
import { FIXTURE_MAPPING, serveFixtureHttp } from '../collectors/mcp-proxy/testing/fixture-server.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { repoRoot } from '../stack/paths.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { clickhouseClient, testLogDir } from './helpers/stack.js';

// The MCP proxy end to end: the SDK's MCP Client spawns `agenttrail mcp-proxy` (stdio), which
// fronts a real McpServer started by the test over stdio and another over streamable HTTP, and
// records through the real gateway → Kafka → ingester → ClickHouse, with the detector judging.

const TENANT = 'mcp';
const SECRET = 'whsec_mcp_proxy_int_test';
let e2e: E2E;
let web: { url: string; close(): Promise<void> };
let dir: string;
const ch = clickhouseClient();

const SCOPE = {
  allow: [
    { tools: ['read_file'], operations: ['read' as const], resources: ['file:///work/**'] },
    { tools: ['web.echo'] },
  ],
};

function writeConfig(name: string, mode: 'record' | 'enforce', taskId: string): string {
  const config: ProxyConfigInput = {
    version: 1,
    gateway: { endpoint: e2e.pipeline.gatewayUrl },
    tenant: TENANT,
    agent: { id: 'mcp-agent', framework: 'mcp' },
    mode,
    task: {
      task_id: taskId,
      intent: 'read the project docs',
      declared_by: { kind: 'human', id: 'alice@acme.example' },
      scope: SCOPE,
    },
    servers: {
      files: {
        transport: 'stdio',
        command: process.execPath,
        args: ['--import', 'tsx', join(repoRoot, 'collectors/mcp-proxy/testing/fixture-stdio.ts')],
        cwd: repoRoot,
        mapping: 'files.mapping.yaml',
      },
      web: { transport: 'http', url: web.url, tool_prefix: 'web.', mapping: 'files.mapping.yaml' },
    },
    sdk: { flush_interval_ms: 50 },
  };
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

async function connect(configPath: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(repoRoot, 'bin/agenttrail.mjs'), 'mcp-proxy', '--config', configPath],
    env: { ...(process.env as Record<string, string>), AGENTTRAIL_API_KEY: e2e.pipeline.apiKey },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => {
    stderr += c;
  });
  const client = new Client({ name: 'int-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, logs: () => stderr };
}

const stored = (taskId: string) =>
  createReadLayer({ client: ch, database: e2e.run, caller: 'mcp-proxy-int-test' }).events.task(
    TENANT,
    taskId,
  );

async function storedTask(taskId: string, count: number) {
  const rows = await pollUntil(
    () => stored(taskId),
    (r) => r.length >= count,
    30_000,
  );
  expect(rows.met).toBe(true);
  return rows.value
    .map((r) => ({ ...r, seq: Number(r.seq), data: JSON.parse(r.data) as Record<string, unknown> }))
    .sort((a, b) => a.seq - b.seq);
}

beforeAll(async () => {
  e2e = await startE2E('mcp_proxy', { tenant: TENANT, secret: SECRET, prefix: 't_mcp_proxy', partitions: 2 });
  web = await serveFixtureHttp('fixture-web');
  dir = testLogDir('mcp-proxy', e2e.run);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'files.mapping.yaml'), stringify(FIXTURE_MAPPING));
});

afterAll(async () => {
  await web?.close();
  if (e2e) expect(await e2e.stop()).toEqual({ gateway: 0, ingester: 0, detector: 0, alerter: 0 });
  await ch.close();
});

describe('mcp proxy → gateway → Kafka → ClickHouse, detector', () => {
  it('records every call as an action of the task, and an out-of-scope call raises the scope alert', async () => {
    const taskId = `${e2e.run}.record`;
    const { client, logs } = await connect(writeConfig('record', 'record', taskId));
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['read_file', 'write_file', 'web.echo', 'web.read_file']));

    expect(await client.callTool({ name: 'read_file', arguments: { path: '/work/README.md' } })).toEqual({
      content: [{ type: 'text', text: '# project\nhello' }],
    });
    expect(await client.callTool({ name: 'web.echo', arguments: { text: 'over http' } })).toEqual({
      content: [{ type: 'text', text: 'over http' }],
    });
    // Outside the scope (a tool it did not declare): forwarded in record mode, and alerted on.
    expect(
      await client.callTool({ name: 'write_file', arguments: { path: '/work/x', content: 'y' } }),
    ).toEqual({
      content: [{ type: 'text', text: 'wrote 1 characters to /work/x' }],
    });
    await client.close();

    // declared, 3 actions, ended (the client closed the session).
    const rows = await storedTask(taskId, 5);
    expect(rows.map((r) => [r.seq, r.type, r.data.tool ?? '', r.data.outcome ?? ''])).toEqual([
      [1, 'task.declared', '', ''],
      [2, 'action', 'read_file', 'ok'],
      [3, 'action', 'web.echo', 'ok'],
      [4, 'action', 'write_file', 'ok'],
      [5, 'task.ended', '', 'completed'],
    ]);
    expect(rows[1]!.data).toMatchObject({
      operation: 'read',
      resource: 'file:///work/README.md',
      arguments: { path: '/work/README.md' },
      output: { excerpt: '# project\nhello' },
    });
    expect(rows[1]!.data.latency_ms).toBeGreaterThan(0);
    expect(rows[3]!.data).toMatchObject({ operation: 'write', resource: 'file:///work/x' });
    expect(rows.every((r) => r.agent_id === 'mcp-agent')).toBe(true);

    const alerts = await pollUntil(
      () => storedAlerts(ch, e2e.run, TENANT, [taskId]),
      (a) => a.some((x) => x.rule_id === 'AT-SCOPE-001'),
      30_000,
    );
    expect(alerts.value.map((a) => a.rule_id)).toEqual(['AT-SCOPE-001']);
    // web.echo has no mapping rule: recorded with the default operation, and said so on stderr.
    const warning = logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; tool?: string; level: number })
      .find((l) => l.tool === 'echo');
    expect(warning).toMatchObject({ level: 40, msg: expect.stringContaining('not covered by the mapping') });
  });

  it('in enforce mode refuses the out-of-scope call naming the scope element, and records it denied', async () => {
    const taskId = `${e2e.run}.enforce`;
    const { client } = await connect(writeConfig('enforce', 'enforce', taskId));
    await client.callTool({ name: 'read_file', arguments: { path: '/work/README.md' } });
    const refused = await client
      .callTool({ name: 'write_file', arguments: { path: '/work/y', content: 'z' } })
      .then(
        () => undefined,
        (e: {
          code: number;
          message: string;
          data: { code: string; violations: Array<{ element: string }> };
        }) => e,
      );
    expect(refused?.code).toBe(-32003);
    expect(refused?.message).toContain("scope.allow: tool 'write_file' is not in scope.allow");
    expect(refused?.data.code).toBe('AT_ERR_MCP_OUT_OF_SCOPE');
    expect(refused?.data.violations.map((v) => v.element)).toEqual(['scope.allow']);
    // It was not forwarded: the server never wrote /work/y.
    expect((await client.callTool({ name: 'read_file', arguments: { path: '/work/y' } })).isError).toBe(true);
    await client.close();

    const rows = await storedTask(taskId, 5);
    expect(rows.map((r) => [r.seq, r.type, r.data.tool ?? '', r.data.outcome ?? ''])).toEqual([
      [1, 'task.declared', '', ''],
      [2, 'action', 'read_file', 'ok'],
      [3, 'action', 'write_file', 'denied'],
      [4, 'action', 'read_file', 'error'],
      [5, 'task.ended', '', 'completed'],
    ]);
    expect(String(rows[2]!.data.error)).toContain('scope.allow');
    // The refused attempt is still an attempt outside scope: the detector alerts on it too.
    const alerts = await pollUntil(
      () => storedAlerts(ch, e2e.run, TENANT, [taskId]),
      (a) => a.some((x) => x.rule_id === 'AT-SCOPE-001'),
      30_000,
    );
    expect(alerts.value.map((a) => a.rule_id)).toEqual(['AT-SCOPE-001']);
  });

  it('answers and records every request of a client that writes them and closes stdin at once', async () => {
    const taskId = `${e2e.run}.pipe`;
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin/agenttrail.mjs'), 'mcp-proxy', '--config', writeConfig('pipe', 'record', taskId)],
      { env: { ...process.env, AGENTTRAIL_API_KEY: e2e.pipeline.apiKey }, stdio: ['pipe', 'pipe', 'ignore'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const call = (id: number, path: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'read_file', arguments: { path } },
    });
    const lines = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'pipe', version: '1' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      call(2, '/work/README.md'),
      call(3, '/etc/passwd'),
    ];
    child.stdin.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    expect(await exited).toBe(0);
    const answers = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; result?: unknown });
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    const rows = await storedTask(taskId, 4);
    expect(rows.map((r) => [r.seq, r.type, r.data.tool ?? '', r.data.outcome ?? ''])).toEqual([
      [1, 'task.declared', '', ''],
      [2, 'action', 'read_file', 'ok'],
      [3, 'action', 'read_file', 'ok'],
      [4, 'task.ended', '', 'completed'],
    ]);
  });
});
