import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseClient, createDatabase, dropDatabase, uniqueName } from './helpers/stack.js';

// Proves the ClickHouse engine from libchdb serves @clickhouse/client like a real server
// does: DDL, JSONEachRow inserts, {name:Type} query parameters, DateTime64(3) precision.

const db = uniqueName('it_ch');
beforeAll(() => createDatabase(db));
afterAll(() => dropDatabase(db));

describe('ClickHouse (@clickhouse/client against the local engine)', () => {
  it('answers version() from a 26.x engine', async () => {
    const ch = clickhouseClient(db);
    const rs = await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = await rs.json<{ v: string }>();
    await ch.close();
    expect(Number(row?.v.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('creates a MergeTree table, inserts JSONEachRow, reads back with parameters', async () => {
    const ch = clickhouseClient(db);
    await ch.command({
      query: `CREATE TABLE events (
        id UInt64,
        agent LowCardinality(String),
        action String,
        ts DateTime64(3, 'UTC')
      ) ENGINE = MergeTree ORDER BY (agent, ts)`,
    });
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      agent: `agent-${i % 3}`,
      action: i % 2 === 0 ? 'read' : 'write',
      // Milliseconds must survive the round trip.
      ts: `2026-01-02 03:04:05.${String(i % 1000).padStart(3, '0')}`,
    }));
    await ch.insert({ table: 'events', values: rows, format: 'JSONEachRow' });

    const rs = await ch.query({
      query: `SELECT count() AS n, min(ts) AS first, max(ts) AS last
              FROM events
              WHERE agent = {agent:String} AND ts >= {since:DateTime64(3)} AND action IN {actions:Array(String)}`,
      query_params: { agent: 'agent-1', since: '2026-01-02 03:04:05.500', actions: ['read', 'write'] },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string; first: string; last: string }>();
    // ids i with i % 3 == 1 and i % 1000 >= 500: 501..997 step 3 -> 166 rows
    expect(Number(row?.n)).toBe(166);
    expect(row?.first).toBe('2026-01-02 03:04:05.502');
    expect(row?.last).toBe('2026-01-02 03:04:05.997');
    await ch.close();
  });
});
