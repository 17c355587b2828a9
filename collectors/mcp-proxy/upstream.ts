import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../services/platform/logger.js';
import { compileMapping, type Mapper } from '../../services/platform/tool-mapping.js';
import type { ResolvedConfig } from './config.js';

// One MCP server behind the proxy, connected as an MCP client (stdio child or streamable HTTP).

export interface Upstream {
  name: string;
  client: Client;
  prefix: string;
  mapper: Mapper;
  capabilities: ServerCapabilities;
  instructions: string | undefined;
  close(): Promise<void>;
}

export const PROXY_INFO = { name: 'agenttrail-mcp-proxy', version: '0.1.0' };

type ResolvedServer = ResolvedConfig['servers'][number];

function transportFor(s: ResolvedServer, log: Logger): Transport {
  const server = s.server;
  if (server.transport === 'http') {
    return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: s.headers } });
  }
  const t = new StdioClientTransport({
    command: server.command,
    args: server.args,
    env: Object.keys(server.env).length > 0 ? server.env : undefined,
    cwd: server.cwd,
    // Piped, not inherited: the server's stderr becomes log lines naming the server.
    stderr: 'pipe',
  });
  const stderr = t.stderr;
  if (stderr) {
    createInterface({ input: stderr as unknown as NodeJS.ReadableStream }).on('line', (line) =>
      log.info({ stderr: line }, 'upstream stderr'),
    );
  }
  return t;
}

export async function connectUpstream(s: ResolvedServer, timeoutMs: number, log: Logger): Promise<Upstream> {
  const ulog = log.child({ server: s.name });
  const client = new Client(PROXY_INFO, { capabilities: {} });
  let closing = false;
  // Closing aborts the HTTP transport's open streams, which it reports as errors: not news.
  client.onerror = (err) =>
    closing
      ? ulog.debug({ err }, 'upstream transport error while closing')
      : ulog.warn({ err }, 'upstream transport error');
  client.onclose = () => ulog.info('upstream connection closed');
  try {
    await client.connect(transportFor(s, ulog), { timeout: timeoutMs });
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`server ${s.name}: cannot connect: ${(err as Error).message}`, { cause: err });
  }
  const version = client.getServerVersion();
  ulog.info({ upstream: version, mapping: s.mappingPath ?? null }, 'upstream connected');
  return {
    name: s.name,
    client,
    prefix: s.server.tool_prefix,
    mapper: compileMapping(s.mapping),
    capabilities: client.getServerCapabilities() ?? {},
    instructions: client.getInstructions(),
    close: () => {
      closing = true;
      return client.close();
    },
  };
}
