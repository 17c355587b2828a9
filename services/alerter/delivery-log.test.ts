import { ClickHouseError } from '@clickhouse/client';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DeliveryLog, type DeliveryRow } from './delivery-log.js';

// A delivery row ClickHouse refuses as data was retried for ever, holding every later
// delivery's offset commit (the same wedge as issue 10 item 1 in the ingester).

const row = (alertId: string): DeliveryRow => ({
  alert_id: alertId,
  destination: 'hook',
  destination_type: 'webhook',
  delivery_id: `d-${alertId}`,
  dedup_key: alertId,
  group_count: 1,
  attempt: 1,
  status: 'delivered',
  http_status: 200,
  latency_ms: 3,
  error: null,
  at: '2026-12-03 00:00:00.000',
});

describe('DeliveryLog', () => {
  it('writes the rows ClickHouse takes, hands the refused ones to onRefused, and resolves', async () => {
    const written: string[] = [];
    let outage = 1;
    const refused: Array<{ id: string; code: string }> = [];
    const log = new DeliveryLog(
      {
        async write(rows) {
          if (outage-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          if (rows.some((r) => r.alert_id === 'bad'))
            throw new ClickHouseError({
              message: 'Cannot parse escape sequence',
              code: '25',
              type: 'CANNOT_PARSE_ESCAPE_SEQUENCE',
            });
          written.push(...rows.map((r) => r.alert_id));
        },
        prior: async () => ({ final: new Set(), attempts: new Map() }),
      },
      pino({ level: 'silent' }),
      {
        flushIntervalMs: 1,
        onRefused: async (rows) => {
          refused.push(...rows.map((r) => ({ id: r.row.alert_id, code: r.clickhouseCode })));
        },
      },
    );
    await log.append(['a', 'bad', 'c', 'd'].map(row));
    expect(written.sort()).toEqual(['a', 'c', 'd']);
    expect(refused).toEqual([{ id: 'bad', code: '25' }]);
  });
});
