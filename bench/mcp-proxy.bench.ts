// MCP proxy overhead: what `agenttrail mcp-proxy` adds to one tools/call, against calling the
// same server directly, in one run.
//
//   npx tsx bench/mcp-proxy.bench.ts   (or `npm run bench -- mcp-proxy`)
//
// Three MCP clients (the SDK's Client, stdio) in this process: one spawns the fixture McpServer
// directly; two spawn `agenttrail mcp-proxy` (record mode, enforce mode) in front of the same
// server. Calls go one at a time, round-robin over the three, so all see the same machine
// state; each latency is one request → answer. The proxies record every call through the SDK to
// a stub gateway in this process that answers 202 (the gateway's own cost is `npm run bench --
// gateway`; the SDK sends in the background, off the call path). The stub's event count checks
// that every call was recorded. Progress on stderr; the LAST stdout line is JSON.
//
// Knobs (env): BENCH_CALLS (2000 per client), BENCH_WARMUP_CALLS (200), BENCH_PAYLOAD_BYTES (256).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify } from 'yaml';
import type { ProxyConfigInput } from '../collectors/mcp-proxy/config.js';
import { repoRoot } from '../stack/paths.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP_CALLS ?? 200);
const PAYLOAD = Number(process.env.BENCH_PAYLOAD_BYTES ?? 256);

const log = (msg: string) => process.stderr.write(`[mcp-proxy-bench] ${msg}\n`);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const round = (v: number) => Number(v.toFixed(3));

const FIXTURE = ['--import', 'tsx', join(repoRoot, 'collectors/mcp-proxy/testing/fixture-stdio.ts')];

async function stubGateway() {
  let events = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', () => {
      events += (JSON.parse(body) as unknown[]).length;
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events: () => events,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function proxyConfig(dir: string, gateway: string, mode: 'record' | 'enforce'): string {
  const config: ProxyConfigInput = {
    version: 1,
    gateway: { endpoint: gateway },
    tenant: 'bench',
    agent: { id: 'bench-agent' },
    mode,
    task: {
      intent: 'echo for the benchmark',
      scope: { allow: [{ tools: ['echo'], operations: ['execute'] }] },
    },
    servers: {
      files: {
        transport: 'stdio',
        command: process.execPath,
        args: FIXTURE,
        cwd: repoRoot,
        mapping: 'map.yaml',
      },
    },
    log_level: 'warn',
  };
  writeFileSync(
    join(dir, 'map.yaml'),
    stringify({ version: 1, tools: [{ match: 'echo', operation: 'execute' }] }),
  );
  const path = join(dir, `${mode}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

async function connect(
  name: string,
  command: string,
  args: string[],
): Promise<{ name: string; client: Client }> {
  const client = new Client({ name: `bench-${name}`, version: '1' });
  await client.connect(
    new StdioClientTransport({
      command,
      args,
      cwd: repoRoot,
      env: { ...(process.env as Record<string, string>), AGENTTRAIL_API_KEY: 'atk_bench_stub' },
      stderr: 'inherit',
    }),
  );
  return { name, client };
}

async function main() {
  const gateway = await stubGateway();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-proxy-bench-'));
  const bin = join(repoRoot, 'bin/agenttrail.mjs');
  const clients = [
    await connect('direct', process.execPath, FIXTURE),
    await connect('record', process.execPath, [
      bin,
      'mcp-proxy',
      '--config',
      proxyConfig(dir, gateway.url, 'record'),
    ]),
    await connect('enforce', process.execPath, [
      bin,
      'mcp-proxy',
      '--config',
      proxyConfig(dir, gateway.url, 'enforce'),
    ]),
  ];
  const text = 'x'.repeat(PAYLOAD);
  const lat: Record<string, number[]> = Object.fromEntries(clients.map((c) => [c.name, []]));
  log(`warm-up: ${WARMUP} calls per client`);
  for (let i = 0; i < WARMUP; i++) {
    for (const c of clients) await c.client.callTool({ name: 'echo', arguments: { text } });
  }
  log(`measuring: ${CALLS} calls per client, round-robin, ${PAYLOAD}-byte payload`);
  for (let i = 0; i < CALLS; i++) {
    // Rotate who goes first, so no client always follows the same one.
    for (let k = 0; k < clients.length; k++) {
      const c = clients[(i + k) % clients.length]!;
      const t0 = performance.now();
      const r = await c.client.callTool({ name: 'echo', arguments: { text } });
      lat[c.name]!.push(performance.now() - t0);
      if (r.isError) throw new Error(`${c.name}: echo failed`);
    }
  }
  for (const c of clients) await c.client.close();
  const expected = 2 * (WARMUP + CALLS) + 2 * 2; // each proxy: calls + task.declared + task.ended
  const deadline = Date.now() + 10_000;
  while (gateway.events() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await gateway.close();

  const stats = Object.fromEntries(
    Object.entries(lat).map(([name, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return [name, { p50: quantile(s, 0.5), p99: quantile(s, 0.99) }];
    }),
  ) as Record<'direct' | 'record' | 'enforce', { p50: number; p99: number }>;
  for (const [name, s] of Object.entries(stats)) {
    log(`${name.padEnd(8)} p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms`);
  }
  log(`events the stub gateway accepted: ${gateway.events()} (expected ${expected})`);
  const result = {
    bench: 'mcp-proxy',
    calls_per_client: CALLS,
    payload_bytes: PAYLOAD,
    direct_p50_ms: round(stats.direct.p50),
    direct_p99_ms: round(stats.direct.p99),
    proxied_p50_ms: round(stats.record.p50),
    proxied_p99_ms: round(stats.record.p99),
    added_p50_ms: round(stats.record.p50 - stats.direct.p50),
    added_p99_ms: round(stats.record.p99 - stats.direct.p99),
    enforce_added_p50_ms: round(stats.enforce.p50 - stats.direct.p50),
    enforce_added_p99_ms: round(stats.enforce.p99 - stats.direct.p99),
    events_recorded: gateway.events(),
    events_expected: expected,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (gateway.events() !== expected) process.exitCode = 1;
}

await main();
