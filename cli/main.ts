import { alertsCommand } from './alerts-command.js';
import { backtestCommand } from './backtest-command.js';
import { benchCommand } from './bench-command.js';
import type { Command } from './command.js';
import { demoCommand } from './demo-command.js';
import { docsCommand } from './docs-command.js';
import { exportCommand } from './export-command.js';
import { historyCommand } from './history-command.js';
import { keysCommand } from './keys-command.js';
import { mcpProxyCommand } from './mcp-proxy-command.js';
import { receiverCommand } from './receiver-command.js';
import { resourcesCommand } from './resources-command.js';
import { stackCommand } from './stack-command.js';
import { testCommand } from './test-command.js';
import { timelineCommand } from './timeline-command.js';
import { verifyCommand } from './verify-command.js';

// The registry: each subcommand lives in cli/<name>-command.ts and is added here.
const commands: Record<string, Command> = {
  stack: stackCommand,
  test: testCommand,
  demo: demoCommand,
  keys: keysCommand,
  bench: benchCommand,
  docs: docsCommand,
  backtest: backtestCommand,
  receiver: receiverCommand,
  // Collectors beyond the SDK (issue 15).
  'mcp-proxy': mcpProxyCommand,
  // Investigation (issue 11): the query API's answers, over HTTP or straight at ClickHouse.
  history: historyCommand,
  timeline: timelineCommand,
  resources: resourcesCommand,
  alerts: alertsCommand,
  verify: verifyCommand,
  export: exportCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: agenttrail <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    "Run 'agenttrail <command> --help' for a command's options.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`agenttrail: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`agenttrail: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
