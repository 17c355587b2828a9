import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterEach, describe, expect, it } from 'vitest';
import { clickhouseHealthy, kafkaHealthy } from '../stack/index.js';
import { isAlive, waitUntil } from '../stack/process.js';
import { kafkaClient } from './helpers/stack.js';
import {
  formattedClusterId,
  holdPort,
  instanceRecords,
  parsed,
  processesUsing,
  run,
  runAsync,
  stack,
} from './helpers/stack-cli.js';

// Issue 10 item 6: stacks of different state dirs must never share, race for or adopt each
// other's ports, and a restarted engine must come back where its clients expect it.

const dirs: string[] = [];
function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'at-stack-ports-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) {
    run(dir, 'down');
    // Engines a losing racer left behind are not in any record: end them by their folder.
    for (const pid of processesUsing(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

const chDataDir = (stateDir: string) => join(stateDir, 'stack', 'clickhouse', 'data');

/** Which data path the ClickHouse engine at `url` was launched with. */
async function clickhousePath(url: string): Promise<string> {
  const ch = createClient({ url });
  try {
    const rs = await ch.query({
      query: "SELECT path FROM system.disks WHERE name = 'default'",
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ path: string }>();
    return row?.path ?? '';
  } finally {
    await ch.close();
  }
}

async function kafkaClusterId(brokers: string[]): Promise<string> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).clusterId;
  } finally {
    await admin.disconnect();
  }
}

describe('stack ports', () => {
  it('two `stack up` of different state dirs started together get distinct ports, each on its own engines', async () => {
    const [a, b] = [newStateDir(), newStateDir()];
    const results = await Promise.all([runAsync(a, 'up'), runAsync(b, 'up')]);
    const [upA, upB] = results.map((r) => parsed(r, 'up'));

    const [recA, recB] = [instanceRecords(a), instanceRecords(b)];
    const ports = [recA, recB].flatMap((r) => [r.kafka.port, r.kafka.controllerPort, r.clickhouse.port]);
    expect(new Set(ports).size).toBe(6);
    expect(upA.kafka.brokers).toEqual([`127.0.0.1:${recA.kafka.port}`]);
    expect(upB.kafka.brokers).toEqual([`127.0.0.1:${recB.kafka.port}`]);

    // Whatever answers each reported endpoint is that state dir's engine, not the other's.
    for (const [dir, up] of [
      [a, upA],
      [b, upB],
    ] as const) {
      expect(await kafkaClusterId(up.kafka.brokers)).toBe(formattedClusterId(dir));
      expect(await clickhousePath(up.clickhouse.url)).toBe(`${chDataDir(dir)}/`);
      expect(processesUsing(dir).sort()).toEqual(
        [instanceRecords(dir).kafka.pid, instanceRecords(dir).clickhouse.pid].sort(),
      );
    }

    // The health check itself tells the two apart: A's check refuses B's engines.
    const idA = { clusterId: formattedClusterId(a)! };
    expect(await kafkaHealthy(upA.kafka.brokers, idA)).toBe(true);
    expect(await kafkaHealthy(upB.kafka.brokers, idA)).toBe(false);
    expect(await clickhouseHealthy(upA.clickhouse.url, { dataDir: chDataDir(a) })).toBe(true);
    expect(await clickhouseHealthy(upB.clickhouse.url, { dataDir: chDataDir(a) })).toBe(false);
  }, 400_000);

  it('after kill -9 of both engines, `stack up` restarts them on their recorded ports', async () => {
    const dir = newStateDir();
    // Push the first start off the well-known ports, then free those again: a restart that
    // falls back to "default, else next free" lands elsewhere; the recorded ports are free.
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    const holders = await Promise.all([...range(9092, 12), ...range(8123, 8)].map(holdPort));
    let first: ReturnType<typeof instanceRecords>;
    let up: { kafka: { brokers: string[] }; clickhouse: { url: string } };
    try {
      up = stack(dir, 'up');
      first = instanceRecords(dir);
    } finally {
      await Promise.all(holders.map((h) => h && new Promise((r) => h.close(r))));
    }

    process.kill(first.kafka.pid, 'SIGKILL');
    process.kill(first.clickhouse.pid, 'SIGKILL');
    await waitUntil(async () => !isAlive(first.kafka.pid) && !isAlive(first.clickhouse.pid), {
      what: 'engines gone',
      timeoutMs: 10_000,
    });

    const again = stack(dir, 'up');
    expect(again.started.sort()).toEqual(['clickhouse', 'kafka']);
    expect(again.kafka.brokers).toEqual(up.kafka.brokers);
    expect(again.clickhouse.url).toBe(up.clickhouse.url);
    const now = instanceRecords(dir);
    expect(now.kafka.controllerPort).toBe(first.kafka.controllerPort);
    expect(now.kafka.pid).not.toBe(first.kafka.pid);
    expect(await kafkaClusterId(again.kafka.brokers)).toBe(formattedClusterId(dir));
    expect(await clickhousePath(again.clickhouse.url)).toBe(`${chDataDir(dir)}/`);
  }, 400_000);
});
