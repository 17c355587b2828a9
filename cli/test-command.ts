import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pythonCommand, repoRoot } from '../stack/paths.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail test [vitest args...]

Runs, in order, stopping at the first failure:
  1. tsc --noEmit        type check
  2. biome check .       lint + format check
  3. pytest              the Python SDK's tests (sdk/python/tests), with AGENTTRAIL_PYTHON
                         or python3 (needs pytest: pip install -r sdk/python/requirements-dev.txt)
  4. vitest run          unit and integration projects (integration brings the local
                         stack up via test/global-setup.ts unless KAFKA_BROKERS and
                         CLICKHOUSE_URL are set)
Extra arguments are passed to vitest (e.g. --project unit).`;

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

function run(command: string, args: string[], missing?: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit' });
    child.once('error', (err) => {
      const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
      process.stderr.write(`${notFound && missing ? `${command} not found: ${missing}` : err.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export const testCommand: Command = {
  summary: 'type check, lint, then run all tests (what CI runs)',
  async run(argv) {
    if (wantsHelp(argv)) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const python = pythonCommand();
    const steps: Array<[title: string, command: string, args: string[], missing?: string]> = [
      ['type check (tsc --noEmit)', bin('tsc'), ['--noEmit']],
      ['lint (biome check .)', bin('biome'), ['check', '.']],
      [
        'Python SDK tests (pytest sdk/python/tests)',
        python,
        ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'sdk/python/tests'],
        'the Python SDK tests need Python 3.10+ with pytest (pip install -r sdk/python/requirements-dev.txt); set AGENTTRAIL_PYTHON to use another interpreter',
      ],
      ['tests (vitest run)', bin('vitest'), ['run', ...argv]],
    ];
    for (const [index, [title, command, args, missing]] of steps.entries()) {
      const started = Date.now();
      process.stdout.write(`\n=== [${index + 1}/${steps.length}] ${title} ===\n`);
      const code = await run(command, args, missing);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code !== 0) {
        process.stdout.write(`\n=== FAILED: ${title} (exit ${code}, ${secs} s) ===\n`);
        return code;
      }
      process.stdout.write(`=== ok: ${title} (${secs} s) ===\n`);
    }
    process.stdout.write('\n=== all checks passed ===\n');
    return 0;
  },
};
