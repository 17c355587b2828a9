import type { ClickHouseClient } from '@clickhouse/client';
import { migrate } from '../../services/platform/clickhouse/migrate.js';
import { clickhouseClient, deleteTopic, dropDatabase, testEndpoints, uniqueName } from '../helpers/stack.js';

// One database per fuzz target (migrated as the services do at start-up) and the topics its
// pipelines created, so a target's checks see only its own rows and everything is removed after.

export interface Database {
  name: string;
  brokers: string[];
  topics: string[];
}

export async function newDatabase(prefix: string): Promise<Database> {
  const name = uniqueName(prefix);
  const admin = clickhouseClient();
  try {
    await migrate(admin, { database: name, retentionDays: 0 });
  } finally {
    await admin.close();
  }
  return { name, brokers: testEndpoints().brokers, topics: [] };
}

export async function dropTarget(db: Database): Promise<void> {
  await dropDatabase(db.name);
  for (const t of db.topics) await deleteTopic(t).catch(() => {});
}

/**
 * A fuzz target's database and pipeline across runs, registered with vitest's hooks: the
 * pipeline is started lazily and replaced after a failed run (it may be wedged), so shrinking
 * never runs against a pipeline still stuck on an earlier input.
 */
export function fuzzTarget<S extends { close(): Promise<void> }>(
  prefix: string,
  start: (db: Database) => Promise<S>,
  hooks: { beforeAll: (f: () => Promise<void>) => void; afterAll: (f: () => Promise<void>) => void },
) {
  const t = {
    db: undefined as unknown as Database,
    ch: undefined as unknown as ClickHouseClient,
    stack: undefined as S | undefined,
    dirty: false,
    /** The pipeline for the next run. */
    async fresh(): Promise<S> {
      if (t.stack && !t.dirty) return t.stack;
      await t.stack?.close();
      t.stack = undefined;
      t.stack = await start(t.db);
      t.dirty = false;
      return t.stack;
    },
  };
  hooks.beforeAll(async () => {
    t.db = await newDatabase(prefix);
    t.ch = clickhouseClient(t.db.name);
  });
  hooks.afterAll(async () => {
    await t.stack?.close();
    await t.ch?.close();
    if (t.db) await dropTarget(t.db);
  });
  return t;
}
