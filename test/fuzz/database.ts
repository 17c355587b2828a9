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
