import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../stack/paths.js';
import { type Command, wantsHelp } from './command.js';

// One entry per benchmark: bench/<file> is a plain script that prints progress on stderr and,
// as its last stdout line, a JSON object of figures. README quotes those figures.
const BENCHES: Record<string, { file: string; summary: string }> = {
  gateway: {
    file: 'gateway-ingest.bench.ts',
    summary: 'HTTP batches → gateway → Kafka (acks=all): events/s, p99, CPU µs/event vs a JSON+SHA-256 floor',
  },
  otlp: {
    file: 'otlp.bench.ts',
    summary:
      'OTLP/HTTP protobuf spans → gateway /v1/traces → Kafka: spans/s, CPU µs/span vs the same actions on /v1/events',
  },
  'kafka-client': {
    file: 'kafka-client.bench.ts',
    summary: 'kafkajs producer/consumer alone: msgs/s, CPU µs/msg, one-core ceilings',
  },
  ingest: {
    file: 'ingest-throughput.bench.ts',
    summary: 'Kafka → ingester → ClickHouse: events/s, bytes/event',
  },
  detector: {
    file: 'detector-evaluate.bench.ts',
    summary: 'rule evaluation, 10,000 active tasks: events/s, bytes/task',
  },
  detection: {
    file: 'detection.bench.ts',
    summary:
      'labelled corpus (>=300 seeded tasks), one shared detector: per-family precision/recall/F1, benign FP rate',
  },
  'alert-latency': {
    file: 'alert-latency.bench.ts',
    summary: 'gateway accept → webhook page under background load: p50/p99 ms',
  },
  'alerter-stage': {
    file: 'alert-latency-alerter.bench.ts',
    summary: 'Kafka alert → signed webhook page only',
  },
  'mcp-proxy': {
    file: 'mcp-proxy.bench.ts',
    summary: 'MCP proxy: added latency per tools/call vs calling the server directly, p50/p99',
  },
  query: {
    file: 'query.bench.ts',
    summary:
      'query API over 10M seeded events, 8 clients: timeline/history/resource/alerts p95, export rows/s',
  },
};

function help(): string {
  const width = Math.max(...Object.keys(BENCHES).map((n) => n.length));
  return [
    'usage: agenttrail bench <name> [--option value ...]   (npm run bench -- <name> ...)',
    '',
    'Benchmarks that need Kafka/ClickHouse bring the local stack up (or use KAFKA_BROKERS /',
    'CLICKHOUSE_URL). Each prints a JSON object of figures as its last line. Options after the',
    "name go to the benchmark script (e.g. 'detector --verify-hash link').",
    '',
    ...Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(width)}  ${b.summary}`),
  ].join('\n');
}

function runScript(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(repoRoot, 'bench', file), ...args],
      {
        cwd: repoRoot,
        stdio: 'inherit',
      },
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export const benchCommand: Command = {
  summary: `run benchmarks (${Object.keys(BENCHES).join(', ')}) and print their figures`,
  async run(argv) {
    if (wantsHelp(argv) || argv.length === 0) {
      process.stdout.write(`${help()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const [name, ...args] = argv;
    const bench = name === undefined ? undefined : BENCHES[name];
    if (!bench) {
      process.stderr.write(`agenttrail bench: unknown benchmark '${name}'\n\n${help()}\n`);
      return 2;
    }
    if (!existsSync(join(repoRoot, 'bench', bench.file))) {
      process.stderr.write(`agenttrail bench: bench/${bench.file} is not built yet\n`);
      return 1;
    }
    return runScript(bench.file, args);
  },
};
