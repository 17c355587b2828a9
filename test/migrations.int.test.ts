import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEvent } from '../bench/ingest-events.js';
import { decodeMessage } from '../services/ingester/decode.js';
import { toLine } from '../services/ingester/rows.js';
import { EVENT_COLUMNS } from '../services/platform/clickhouse/event-row.js';
import {
  loadMigrations,
  MIGRATIONS_DIR,
  migrate,
  readRetentionDays,
  splitStatements,
} from '../services/platform/clickhouse/migrate.js';
import { AgentTrailError } from '../services/platform/errors.js';
import { clickhouseClient, dropDatabase, uniqueName } from './helpers/stack.js';

// Migrations against the real engine: creation from nothing, idempotence (also when run by
// several processes at once), the checksum guard, retention, and the storage guarantees the
// ingester relies on (insert tokens, FINAL / LIMIT 1 BY over unmerged copies, views).

const databases: string[] = [];
const fresh = (prefix: string) => {
  const db = uniqueName(prefix);
  databases.push(db);
  return db;
};
afterAll(async () => {
  for (const db of databases) await dropDatabase(db);
});

describe('splitStatements', () => {
  it('splits on ; at line end and drops comment-only chunks', () => {
    expect(splitStatements("-- c\nCREATE TABLE a (x String DEFAULT ';');\n\n-- end;\n")).toEqual([
      "-- c\nCREATE TABLE a (x String DEFAULT ';')",
    ]);
  });
});

describe('migrate', () => {
  it('creates the database and every table, then has nothing left to do', async () => {
    const db = fresh('it_mig_fresh');
    const ch = clickhouseClient();
    try {
      const first = await migrate(ch, { database: db, retentionDays: 30 });
      expect(first.applied).toEqual(
        loadMigrations().map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`),
      );
      const second = await migrate(ch, { database: db, retentionDays: 30 });
      expect(second.applied).toEqual([]);
      expect(second.retentionChanged).toBe(false);

      const rs = await ch.query({
        query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
        query_params: { db },
        format: 'JSONEachRow',
      });
      const tables = (await rs.json<{ name: string }>()).map((r) => r.name);
      expect(tables).toEqual(
        expect.arrayContaining([
          'events',
          'alerts',
          'alert_deliveries',
          'schema_migrations',
          'agent_actions_per_minute',
          'agent_actions_per_minute_mv',
          'violations_per_rule_per_hour',
          'violations_per_rule_per_hour_mv',
        ]),
      );
      const recorded = await ch.query({
        query: 'SELECT count() AS n FROM {db:Identifier}.schema_migrations FINAL',
        query_params: { db },
        format: 'JSONEachRow',
      });
      expect(Number((await recorded.json<{ n: string }>())[0]?.n)).toBe(loadMigrations().length);
    } finally {
      await ch.close();
    }
  });

  it('is safe when several processes migrate at once', async () => {
    const db = fresh('it_mig_race');
    const clients = [clickhouseClient(), clickhouseClient(), clickhouseClient()];
    try {
      await Promise.all(clients.map((c) => migrate(c, { database: db })));
      const again = await migrate(clients[0]!, { database: db });
      expect(again.applied).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('refuses to run when an applied migration was edited', async () => {
    const db = fresh('it_mig_edit');
    const dir = mkdtempSync(join(tmpdir(), 'agenttrail-migrations-'));
    const ch = clickhouseClient();
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      await migrate(ch, { database: db, dir });
      writeFileSync(
        join(dir, '0002_alerts.sql'),
        'CREATE TABLE IF NOT EXISTS {db:Identifier}.alerts (x UInt8) ENGINE = MergeTree ORDER BY x;\n',
      );
      const err = await migrate(ch, { database: db, dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentTrailError);
      expect((err as AgentTrailError).code).toBe('AT_ERR_MIGRATION_FAILED');
      expect((err as Error).message).toMatch(/0002_alerts was edited/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await ch.close();
    }
  });

  it('sets, changes and removes retention', async () => {
    const db = fresh('it_mig_ttl');
    const ch = clickhouseClient();
    try {
      await migrate(ch, { database: db, retentionDays: 90 });
      expect(await readRetentionDays(ch, db)).toBe(90);
      expect((await migrate(ch, { database: db, retentionDays: 7 })).retentionChanged).toBe(true);
      expect(await readRetentionDays(ch, db)).toBe(7);
      await migrate(ch, { database: db, retentionDays: 0 });
      expect(await readRetentionDays(ch, db)).toBe(0);
      // Undefined leaves it alone.
      expect((await migrate(ch, { database: db })).retentionChanged).toBe(false);
    } finally {
      await ch.close();
    }
  });
});

describe('events table guarantees', () => {
  const insert = async (db: string, lines: string[], token: string) => {
    const ch = clickhouseClient();
    try {
      const r = await ch.exec({
        query: `INSERT INTO {db:Identifier}.events (${EVENT_COLUMNS.join(', ')}) FORMAT JSONCompactEachRow`,
        query_params: { db },
        values: Readable.from([`${lines.join('\n')}\n`]),
        clickhouse_settings: {
          insert_deduplication_token: token,
          input_format_json_read_objects_as_strings: 1,
        },
      });
      r.stream.resume();
    } finally {
      await ch.close();
    }
  };
  const lineOf = (run: string, i: number) => {
    const d = decodeMessage(Buffer.from(JSON.stringify(syntheticEvent(run, i))), Date.UTC(2026, 10, 1));
    if (!d.ok) throw new Error(d.detail);
    return toLine(d.row);
  };

  it('drops a retried batch by token, hides redelivered copies from FINAL and LIMIT 1 BY reads', async () => {
    const db = fresh('it_mig_dedup');
    const ch = clickhouseClient();
    try {
      await migrate(ch, { database: db });
      const batch = Array.from({ length: 100 }, (_, i) => lineOf(db, i));
      await insert(db, batch, 'token-a');
      await insert(db, batch, 'token-a'); // retry of the same batch: dropped on arrival
      await insert(db, batch.slice(50), 'token-b'); // redelivery in a different batch: stored
      const q = async (sql: string) => {
        const rs = await ch.query({ query: sql, query_params: { db }, format: 'JSONEachRow' });
        return Number((await rs.json<{ n: string }>())[0]?.n);
      };
      expect(await q('SELECT count() AS n FROM {db:Identifier}.events')).toBe(150);
      expect(await q('SELECT count() AS n FROM {db:Identifier}.events FINAL')).toBe(100);
      expect(
        await q('SELECT count() AS n FROM (SELECT event_id FROM {db:Identifier}.events LIMIT 1 BY event_id)'),
      ).toBe(100);

      // One task's timeline, in order, from the primary key, one row per event.
      const timeline = await ch.query({
        query: `SELECT seq, type FROM {db:Identifier}.events FINAL
                WHERE tenant = {tenant:String} AND task_id = {task:String} ORDER BY seq`,
        query_params: { db, tenant: 'tenant-1', task: `${db}-task-1` },
        format: 'JSONEachRow',
      });
      const steps = await timeline.json<{ seq: number; type: string }>();
      expect(steps.map((s) => Number(s.seq))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(steps[0]?.type).toBe('task.declared');

      // The dashboard view counts each action once, redelivered or not.
      expect(
        await q(
          `SELECT sum(n) AS n FROM (SELECT uniqMerge(actions) AS n
             FROM {db:Identifier}.agent_actions_per_minute GROUP BY tenant, agent_id, minute)`,
        ),
      ).toBe(98); // 100 events, two of them task.declared
    } finally {
      await ch.close();
    }
  });
});
