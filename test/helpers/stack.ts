import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { statePath } from '../../services/platform/state-dir.js';
import {
  type ClickHouseHandle,
  type KafkaHandle,
  randomFreePort,
  startClickHouse,
  startKafka,
} from '../../stack/index.js';

export interface TestEndpoints {
  brokers: string[];
  clickhouseUrl: string;
}

/** Where a test writes its services' logs: under the state dir (AGENTTRAIL_STATE_DIR), never the checkout. */
export const testLogDir = (...parts: string[]): string => statePath('test-logs', ...parts);

/** Endpoints of the shared stack that test/global-setup.ts brought up (integration project). */
export function testEndpoints(): TestEndpoints {
  const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS?.split(',');
  const clickhouseUrl = inject('clickhouseUrl') ?? process.env.CLICKHOUSE_URL;
  if (!brokers?.length || !clickhouseUrl) {
    throw new Error('no stack endpoints: run integration tests with `--project integration` (global setup)');
  }
  return { brokers, clickhouseUrl };
}

/**
 * A name no other test (or earlier run against a reused stack) has used. Lowercase
 * letters, digits and '_' only: valid as a Kafka topic, group id and ClickHouse identifier.
 */
export function uniqueName(prefix: string): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `${safe}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export function kafkaClient(brokers = testEndpoints().brokers, clientId = 'agenttrail-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN });
}

export async function createTopic(
  name: string,
  partitions = 4,
  brokers = testEndpoints().brokers,
): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(name: string, brokers = testEndpoints().brokers): Promise<void> {
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [name] });
  } finally {
    await admin.disconnect();
  }
}

export function clickhouseClient(database?: string, url = testEndpoints().clickhouseUrl): ClickHouseClient {
  return createClient({ url, database });
}

export async function createDatabase(name: string, url = testEndpoints().clickhouseUrl): Promise<void> {
  const ch = clickhouseClient(undefined, url);
  try {
    await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${name}` });
  } finally {
    await ch.close();
  }
}

export async function dropDatabase(name: string, url = testEndpoints().clickhouseUrl): Promise<void> {
  const ch = clickhouseClient(undefined, url);
  try {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${name} SYNC` });
  } finally {
    await ch.close();
  }
}

/** A handle plus `cleanup()`, which stops the engine and deletes its temp folder. */
export type Private<H> = H & { cleanup(): Promise<void> };

function withCleanup<H extends { stop(): Promise<void> }>(handle: H, dir: string): Private<H> {
  // Handles expose live getters (pid, port): extend the object rather than copying it.
  return Object.assign(handle, {
    async cleanup() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/**
 * A Kafka broker of the test's own, in a temp folder on ephemeral ports, for tests that
 * stop, kill or restart the engine without disturbing the shared stack.
 */
export async function privateKafka(opts: { heapMb?: number } = {}): Promise<Private<KafkaHandle>> {
  const dir = mkdtempSync(join(tmpdir(), 'agenttrail-kafka-'));
  // Not OS-ephemeral ports: see randomFreePort (restart after kill must get them back).
  const port = await randomFreePort();
  const controllerPort = await randomFreePort([port]);
  const handle = await startKafka({ dir, port, controllerPort, heapMb: opts.heapMb ?? 384, log: () => {} });
  return withCleanup(handle, dir);
}

/** A ClickHouse engine of the test's own (see privateKafka). */
export async function privateClickHouse(): Promise<Private<ClickHouseHandle>> {
  const dir = mkdtempSync(join(tmpdir(), 'agenttrail-ch-'));
  const handle = await startClickHouse({ dir, port: await randomFreePort(), log: () => {} });
  return withCleanup(handle, dir);
}
