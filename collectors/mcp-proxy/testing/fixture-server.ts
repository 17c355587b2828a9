import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { MappingFileInput } from '../../../services/platform/tool-mapping.js';

// A small real MCP server (the SDK's McpServer) for the proxy's tests and benchmark: a file
// store in memory, an outbound "post", a tool that reports an error, and an echo. Run as a stdio
// server (`node --import tsx fixture-stdio.ts`) or served over streamable HTTP in-process.

/** The mapping file the tests give the fixture's tools (echo stays unmapped on purpose). */
export const FIXTURE_MAPPING: MappingFileInput = {
  version: 1,
  tools: [
    { match: 'read_file', operation: 'read', resource: 'file://{path}' },
    { match: ['write_file', 'delete_file'], operation: 'write', resource: 'file://{path}' },
    { match: 'http_post', operation: 'transfer', destination: '{url}' },
    {
      match: 'send_mail',
      operation: 'transfer',
      targets: [
        { kind: 'recipient', from: 'to', form: 'email' },
        { kind: 'recipient', from: 'cc', form: 'email' },
      ],
    },
  ],
};

export function buildFixtureServer(name = 'fixture-files'): McpServer {
  const files = new Map<string, string>([
    ['/work/README.md', '# project\nhello'],
    ['/etc/passwd', 'root:x:0:0'],
  ]);
  const server = new McpServer({ name, version: '1.0.0' }, { capabilities: { logging: {} } });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  server.registerTool(
    'read_file',
    { description: 'Read a file', inputSchema: { path: z.string() } },
    async ({ path }) => {
      const body = files.get(path);
      return body === undefined ? { ...text(`no such file: ${path}`), isError: true } : text(body);
    },
  );
  server.registerTool(
    'write_file',
    { description: 'Write a file', inputSchema: { path: z.string(), content: z.string() } },
    async ({ path, content }) => {
      files.set(path, content);
      return text(`wrote ${content.length} characters to ${path}`);
    },
  );
  server.registerTool(
    'delete_file',
    { description: 'Delete a file', inputSchema: { path: z.string() } },
    async ({ path }) => text(files.delete(path) ? `deleted ${path}` : `no such file: ${path}`),
  );
  server.registerTool(
    'http_post',
    { description: 'Send data to a URL', inputSchema: { url: z.string(), body: z.string() } },
    async ({ url, body }) => text(`posted ${body.length} bytes to ${url}`),
  );
  server.registerTool(
    'send_mail',
    {
      description: 'Send an e-mail',
      inputSchema: { to: z.array(z.string()), cc: z.string().optional(), subject: z.string() },
    },
    async (a) => text(`sent to ${[...a.to, ...(a.cc ? [a.cc] : [])].length} recipient(s)`),
  );
  server.registerTool('echo', { description: 'Echo', inputSchema: { text: z.string() } }, async (a) =>
    text(a.text),
  );
  server.registerTool(
    'count',
    { description: 'Count to n, reporting progress', inputSchema: { n: z.number().int().min(1).max(10) } },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n && token !== undefined; i++) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: i, total: n },
        });
      }
      return text(`counted to ${n}`);
    },
  );
  server.registerPrompt(
    'summarise',
    { description: 'Summarise a file', argsSchema: { path: z.string() } },
    ({ path }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${path}` } }] }),
  );
  server.registerResource('readme', 'file:///work/README.md', { mimeType: 'text/markdown' }, async (uri) => ({
    contents: [{ uri: uri.href, text: files.get('/work/README.md') ?? '' }],
  }));
  return server;
}

/** Serve a fresh fixture server per request over stateless streamable HTTP, on 127.0.0.1. */
export async function serveFixtureHttp(name?: string): Promise<{ url: string; close(): Promise<void> }> {
  const http: HttpServer = createServer(async (req, res) => {
    const server = buildFixtureServer(name);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise((r) => http.close(() => r())),
  };
}
