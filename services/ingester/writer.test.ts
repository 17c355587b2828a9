import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseError } from '@clickhouse/client';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createEventWriter } from './writer.js';

const log = pino({ level: 'silent' });
const retry = { initialMs: 1, maxMs: 4 };
const rows = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify([`e${i}`, 1]));

const control = () => ({ signal: new AbortController().signal, onWait: async () => {} });

/** A client whose insert runs `behaviour` on the rows it is given. */
function fakeClient(behaviour: (eventIds: string[], token: string) => void) {
  const calls: Array<{ n: number; token: string }> = [];
  const client = {
    exec: async (p: { values: Readable; clickhouse_settings: { insert_deduplication_token: string } }) => {
      let body = '';
      for await (const chunk of p.values) body += String(chunk);
      // Compact rows: event_id is the first column.
      const ids = body
        .split('\n')
        .filter(Boolean)
        .map((line) => String((JSON.parse(line) as unknown[])[0]));
      calls.push({ n: ids.length, token: p.clickhouse_settings.insert_deduplication_token });
      behaviour(ids, p.clickhouse_settings.insert_deduplication_token);
      return { stream: Readable.from([]) };
    },
  } as unknown as ClickHouseClient;
  return { client, calls };
}

describe('event writer', () => {
  it('retries an unavailable ClickHouse with the same token until it answers', async () => {
    let failures = 3;
    const { client, calls } = fakeClient(() => {
      if (failures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    let waits = 0;
    const rejected = await createEventWriter(client, { retry, log, waitSliceMs: 1 }).insert(rows(10), 'tok', {
      ...control(),
      onWait: async () => {
        waits++;
      },
    });
    expect(rejected).toEqual([]);
    expect(calls.map((c) => c.token)).toEqual(['tok', 'tok', 'tok', 'tok']);
    expect(waits).toBeGreaterThanOrEqual(3);
  });

  it('isolates rows ClickHouse refuses and inserts the rest', async () => {
    const { client } = fakeClient((values) => {
      if (values.includes('e5')) {
        throw new ClickHouseError({
          message: 'Cannot parse input',
          code: '27',
          type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
        });
      }
    });
    const rejected = await createEventWriter(client, { retry, log }).insert(rows(8), 'tok', control());
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.index).toBe(5);
    expect(rejected[0]!.reason).toMatch(/^ClickHouse refused the row: code 27 /);
    expect(rejected[0]!.clickhouseCode).toBe('27');
  });

  // Issue 10 item 1: code 25 (a lone surrogate) was not on the list, so the batch was retried
  // for ever and nothing after it was stored, even across a restart.
  it.each([
    [
      'code 25, a lone surrogate',
      '25',
      'CANNOT_PARSE_ESCAPE_SEQUENCE',
      'Cannot parse escape sequence: missing second part of surrogate pair',
    ],
    [
      'an unlisted code whose message names the row',
      '9999',
      'SOME_NEW_PARSE_ERROR',
      'Something odd (at row 3)',
    ],
  ])('isolates a row refused with %s', async (_d, code, type, message) => {
    const { client } = fakeClient((values) => {
      if (values.includes('e2')) throw new ClickHouseError({ message, code, type });
    });
    const rejected = await createEventWriter(client, { retry, log }).insert(rows(5), 'tok', control());
    expect(rejected).toEqual([
      { index: 2, clickhouseCode: code, reason: expect.stringContaining(`code ${code} ${type}`) },
    ]);
  });

  it('gives up only when aborted', async () => {
    const { client } = fakeClient(() => {
      throw new Error('socket hang up');
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 30);
    await expect(
      createEventWriter(client, { retry, log, waitSliceMs: 1 }).insert(rows(1), 't', {
        signal: ac.signal,
        onWait: async () => {},
      }),
    ).rejects.toThrow('stop');
  });
});
