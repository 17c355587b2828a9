import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../stack/paths.js';

// The production path (official images) cannot run here (no Docker engine), but
// docker-compose 1.29 parses and resolves the file without one. `.ci/run` installs it.

const composeFile = join(repoRoot, 'docker-compose.yml');
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasCompose) {
  console.warn(
    'compose test SKIPPED: no docker-compose binary (apt-get install docker-compose; .ci/run does)',
  );
}

function compose(...args: string[]) {
  return spawnSync('docker-compose', ['-f', composeFile, ...args], { cwd: repoRoot, encoding: 'utf8' });
}

interface ResolvedCompose {
  services: Record<string, { image?: string; environment?: Record<string, string | number> }>;
}

describe.skipIf(!hasCompose)('docker-compose.yml', () => {
  it('is valid for docker-compose 1.29 and pins the engines the local stack runs', () => {
    const res = compose('config');
    expect(res.stderr).not.toMatch(/ERROR|Unsupported/i);
    expect(res.status).toBe(0);

    const resolved = parse(res.stdout) as ResolvedCompose;
    expect(resolved.services.kafka?.image).toBe('apache/kafka:4.1.1');
    expect(resolved.services.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:26\./);
    // Single node: internal topics must not ask for 3 replicas.
    expect(String(resolved.services.kafka?.environment?.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe('1');
  });
});
