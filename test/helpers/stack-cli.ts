import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.js';
import { cmdlineOf } from '../../stack/process.js';

// `agenttrail stack …` as a user types it, each call with its own AGENTTRAIL_STATE_DIR and
// without the caller's KAFKA_BROKERS / CLICKHOUSE_URL (unless given): the stack tests drive
// the command itself, never the shared stack.

const CLI = join(repoRoot, 'bin', 'agenttrail.mjs');

function stackEnv(stateDir: string, external: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AGENTTRAIL_STATE_DIR: stateDir };
  delete env.KAFKA_BROKERS;
  delete env.CLICKHOUSE_URL;
  return Object.assign(env, external);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `agenttrail stack <action> --json`, synchronously. */
export function run(stateDir: string, action: string, external: Record<string, string> = {}): CliResult {
  return spawnSync(process.execPath, [CLI, 'stack', action, '--json'], {
    env: stackEnv(stateDir, external),
    encoding: 'utf8',
    timeout: 240_000,
  });
}

/** The same, without blocking: for starting several stacks at the same moment. */
export function runAsync(stateDir: string, action: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'stack', action, '--json'], {
      env: stackEnv(stateDir, {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Parsed `--json` output; throws with stderr when the command failed. */
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, checked by the tests' expectations
export function parsed(res: CliResult, action: string): any {
  if (res.status !== 0) throw new Error(`stack ${action} exited ${res.status}:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

// biome-ignore lint/suspicious/noExplicitAny: see parsed()
export function stack(stateDir: string, action: string, external?: Record<string, string>): any {
  return parsed(run(stateDir, action, external), action);
}

/** A listener on 127.0.0.1:port, or undefined when something else listens there already. */
export function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(srv));
  });
}

/** Pids whose command line names the folder: every engine the stack starts does. */
export function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => cmdlineOf(pid).some((arg) => arg.includes(dir)));
}

/** A state dir's engine records, as `stack up` wrote them. */
export function instanceRecords(stateDir: string): {
  kafka: { pid: number; port: number; controllerPort: number };
  clickhouse: { pid: number; port: number };
} {
  const read = (part: string) =>
    JSON.parse(readFileSync(join(stateDir, 'stack', part, 'instance.json'), 'utf8'));
  return { kafka: read('kafka'), clickhouse: read('clickhouse') };
}

/** The cluster id Kafka's storage format wrote into this state dir's log dir. */
export function formattedClusterId(stateDir: string): string | undefined {
  const meta = readFileSync(join(stateDir, 'stack', 'kafka', 'data', 'meta.properties'), 'utf8');
  return /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim();
}
