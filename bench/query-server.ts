import { createClient } from '@clickhouse/client';
import { buildApi } from '../services/api/app.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { KeyStore } from '../services/platform/keys/index.js';

// The query API as the benchmark runs it: its own process (so its CPU is measurable and the load
// generator does not share its event loop), built by buildApi exactly as main.ts does, over the
// benchmark's database, with the keys the benchmark minted. Prints {"port": n} once listening.

const keys = new KeyStore(JSON.parse(process.env.BENCH_KEYS ?? '[]'), 'api');
const client = createClient({
  url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
  // More sockets than concurrent requests: a timeline makes up to 4 reads at once.
  max_open_connections: 64,
  request_timeout: 300_000,
});
const app = await buildApi({
  config: { API_MAX_PAGE: 1000, API_METRICS_TOKEN: undefined },
  keys,
  read: createReadLayer({ client, database: process.env.BENCH_DB ?? 'bench_query', caller: 'bench-query' }),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
