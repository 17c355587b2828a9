import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildFixtureServer } from './fixture-server.js';

// The fixture server on stdio: `node --import tsx collectors/mcp-proxy/testing/fixture-stdio.ts [name]`.
await buildFixtureServer(process.argv[2]).connect(new StdioServerTransport());
