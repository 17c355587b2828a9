import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Everything is resolved from this file's location, not the cwd, so the CLI, the tests
// and scripts started from sub-folders all agree on where the state lives.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const stackSourceDir = join(repoRoot, 'stack');

/** Root of local state (gitignored). AGENTTRAIL_STATE_DIR overrides it. */
export function defaultStateDir(): string {
  return process.env.AGENTTRAIL_STATE_DIR ?? join(repoRoot, '.state');
}

/**
 * Kafka jars are shared by every state dir (including tests' private instances in /tmp)
 * so that only the very first start pays for the Maven fetch.
 */
export function defaultKafkaLibsDir(): string {
  return process.env.AGENTTRAIL_KAFKA_LIBS ?? join(repoRoot, '.state', 'kafka-libs');
}

export type Log = (msg: string) => void;

/** Progress goes to stderr so that stdout stays clean for `--json`. */
export const stderrLog: Log = (msg) => process.stderr.write(`[stack] ${msg}\n`);
