import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { AgentTrailError } from '../errors.js';
import type { Logger } from '../logger.js';

// Versioned schema migrations, applied by every stage at start-up (idempotent, safe to run
// from several processes at once: every statement is IF NOT EXISTS and the record table
// collapses duplicate rows).
//
// A migration is `migrations/NNNN_name.sql`: statements separated by `;` at the end of a line,
// with the database written as `{db:Identifier}` (a bound parameter, never string-built). Once
// applied, a file must not change: its checksum is recorded and checked on every start.

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

export interface MigrateOptions {
  database: string;
  /** Days of `events` kept (TTL on received_at); 0 keeps forever; undefined leaves it as it is. */
  retentionDays?: number;
  log?: Logger;
  dir?: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
  retentionChanged: boolean;
}

/** Split a migration file into statements: `;` at the end of a line ends one. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('--')));
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, m: FILE_PATTERN.exec(file) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null)
    .map(({ file, m }) => {
      const text = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) {
      throw new AgentTrailError('AT_ERR_MIGRATION_FAILED', `two migrations share version ${m.version}`);
    }
  });
  return migrations;
}

/**
 * Bring `database` to the newest schema. The client must not be bound to `database` itself
 * (it may not exist yet): use createClickHouseAdmin. Every statement names the database.
 */
export async function migrate(client: ClickHouseClient, opts: MigrateOptions): Promise<MigrateResult> {
  const db = opts.database;
  const params = { db };
  await client.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: params });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
    query_params: params,
  });
  const recorded = await readApplied(client, db);
  const result: MigrateResult = { applied: [], alreadyApplied: [], retentionChanged: false };

  for (const m of loadMigrations(opts.dir)) {
    const label = `${String(m.version).padStart(4, '0')}_${m.name}`;
    const seen = recorded.get(m.version);
    if (seen) {
      if (seen !== m.checksum) {
        throw new AgentTrailError(
          'AT_ERR_MIGRATION_FAILED',
          `migration ${label} was edited after it was applied to ${db}; add a new migration instead`,
        );
      }
      result.alreadyApplied.push(label);
      continue;
    }
    for (const [i, statement] of m.statements.entries()) {
      try {
        await client.command({ query: statement, query_params: params });
      } catch (err) {
        throw new AgentTrailError(
          'AT_ERR_MIGRATION_FAILED',
          `migration ${label} statement ${i + 1} failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    await client.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    opts.log?.info({ migration: label, database: db }, 'migration applied');
    result.applied.push(label);
  }

  if (opts.retentionDays !== undefined) {
    result.retentionChanged = await ensureRetention(client, db, opts.retentionDays);
    if (result.retentionChanged) {
      opts.log?.info({ database: db, retentionDays: opts.retentionDays }, 'events retention set');
    }
  }
  return result;
}

async function readApplied(client: ClickHouseClient, db: string): Promise<Map<number, string>> {
  const rs = await client.query({
    query: 'SELECT version, checksum FROM {db:Identifier}.schema_migrations FINAL',
    query_params: { db },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ version: number; checksum: string }>();
  return new Map(rows.map((r) => [Number(r.version), r.checksum]));
}

/** Current `events` retention in days (0 = no TTL), read back from the table definition. */
export async function readRetentionDays(client: ClickHouseClient, db: string): Promise<number> {
  const rs = await client.query({
    query: "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'events'",
    query_params: { db },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ engine_full: string }>();
  const m = row ? /toIntervalDay\((?:_CAST\()?(\d+)/.exec(row.engine_full) : null;
  return m ? Number(m[1]) : 0;
}

/**
 * Retention is configuration, not schema: set it when it differs. Existing parts are not
 * rewritten (materialize_ttl_after_modify = 0, which would be a heavy mutation); they take the
 * new TTL as they merge, and new parts take it at once.
 */
async function ensureRetention(client: ClickHouseClient, db: string, days: number): Promise<boolean> {
  if ((await readRetentionDays(client, db)) === days) return false;
  const query =
    days === 0
      ? 'ALTER TABLE {db:Identifier}.events REMOVE TTL'
      : 'ALTER TABLE {db:Identifier}.events MODIFY TTL toDateTime(received_at) + toIntervalDay({days:UInt32})';
  await client.command({
    query,
    query_params: { db, days },
    clickhouse_settings: { materialize_ttl_after_modify: 0 },
  });
  return true;
}
