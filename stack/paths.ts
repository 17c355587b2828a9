import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateDir } from '../services/platform/state-dir.js';

// Everything is resolved from this file's location, not the cwd, so the CLI, the tests
// and scripts started from sub-folders all agree on where the state lives.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const stackSourceDir = join(repoRoot, 'stack');

/** Root of local state: AGENTTRAIL_STATE_DIR, else `.state/` (one function for every stage). */
export const defaultStateDir = stateDir;

/**
 * Where the Kafka jars are cached: AGENTTRAIL_KAFKA_LIBS, else $XDG_CACHE_HOME/agenttrail
 * (~/.cache/agenttrail) - deliberately NOT the state dir. The jars are no state: they are what
 * stack/pom.xml resolves to (kafka-libs.ts keeps one folder per pom hash, so stacks never share
 * a half-written or replaced classpath), and fetching them per state dir would cost every
 * test's private stack and every CI job a Maven run. Removing the cache only costs a re-fetch.
 */
export function kafkaLibsCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache');
  return resolve(process.env.AGENTTRAIL_KAFKA_LIBS?.trim() || join(cacheHome, 'agenttrail', 'kafka-libs'));
}

/**
 * The Python that runs the Python SDK's tests (sdk/python): AGENTTRAIL_PYTHON (.ci/run points it
 * at the virtualenv it installs sdk/python/requirements-dev.txt into), else `python3` on PATH.
 */
export function pythonCommand(): string {
  return process.env.AGENTTRAIL_PYTHON?.trim() || 'python3';
}

export type Log = (msg: string) => void;

/** Progress goes to stderr so that stdout stays clean for `--json`. */
export const stderrLog: Log = (msg) => process.stderr.write(`[stack] ${msg}\n`);
