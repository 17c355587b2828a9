import { type ClickHouseClient, ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { makeAlert } from '../../alerter/testing.js';
import type { StageProducer } from '../../platform/kafka/producer.js';
import { createLogger } from '../../platform/logger.js';
import { createStageMetrics } from '../../platform/metrics.js';
import { createDetectorMetrics } from './metrics.js';
import { AlertPublisher } from './publish.js';

const noHeartbeat = async () => {};

function publisher(insert: (rows: unknown[]) => Promise<void>, giveUp = () => false) {
  const sent: string[] = [];
  const dead: Array<{ value: string; headers: Record<string, string> }> = [];
  const producer: StageProducer = {
    connect: async () => {},
    disconnect: async () => {},
    send: async (topic, messages) => {
      for (const m of messages) {
        const headers = m.headers as Record<string, string>;
        if (topic === 'dlq') dead.push({ value: String(m.value), headers });
        else sent.push(headers['x-agenttrail-alert-id']!);
      }
    },
  };
  const clickhouse = {
    insert: ({ values }: { values: unknown[] }) => insert(values),
  } as unknown as ClickHouseClient;
  const metrics = createStageMetrics('detector');
  const p = new AlertPublisher({
    producer,
    clickhouse,
    topic: 'alerts',
    dlqTopic: 'dlq',
    metrics,
    detectorMetrics: createDetectorMetrics(metrics.registry),
    log: createLogger('test', { level: 'silent' }),
    giveUp,
  });
  return { p, sent, dead };
}

describe('AlertPublisher', () => {
  it('resolves after the Kafka ack without waiting for the table; flushStored waits for it', async () => {
    let release!: () => void;
    const stored: unknown[] = [];
    const { p, sent } = publisher(
      (rows) =>
        new Promise<void>((r) => {
          release = () => {
            stored.push(...rows);
            r();
          };
        }),
    );
    const a = makeAlert();
    expect(await p.publish([a], noHeartbeat)).toBe(1);
    expect(sent).toEqual([a.alert_id]);
    expect(stored).toHaveLength(0);
    let flushed = false;
    const f = p.flushStored().then(() => {
      flushed = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(flushed).toBe(false);
    release();
    await f;
    expect(stored).toHaveLength(1);
  });

  it('retries a failed insert; a writer that gives up fails every later flush', async () => {
    let calls = 0;
    const { p } = publisher(
      async () => {
        calls++;
        throw new Error('down');
      },
      () => calls >= 1,
    );
    await p.publish([makeAlert()], noHeartbeat);
    await expect(p.flushStored()).rejects.toThrow('down');
    await expect(p.flushStored()).rejects.toThrow('down');
  });

  it('skips suppressed ids on both outputs', async () => {
    const stored: unknown[] = [];
    const { p, sent } = publisher(async (rows) => {
      stored.push(...rows);
    });
    const a = makeAlert();
    p.suppress([a.alert_id]);
    expect(await p.publish([a], noHeartbeat)).toBe(0);
    await p.flushStored();
    expect(sent).toHaveLength(0);
    expect(stored).toHaveLength(0);
    expect(p.suppressedCount).toBe(1);
  });

  // Issue 10 item 1: a row ClickHouse refused as data (code 25, a lone surrogate) was retried
  // for ever; every later alert row, snapshot and commit waited behind it.
  it('dead-letters a row ClickHouse refuses as data, with its code, and stores the rest', async () => {
    const stored: Array<{ alert_id: string }> = [];
    const { p, dead } = publisher(async (rows) => {
      const bad = (rows as Array<{ title: string }>).some((r) => r.title.includes('\ud800'));
      if (bad)
        throw new ClickHouseError({
          message: 'Cannot parse escape sequence: missing second part of surrogate pair',
          code: '25',
          type: 'CANNOT_PARSE_ESCAPE_SEQUENCE',
        });
      stored.push(...(rows as Array<{ alert_id: string }>));
    });
    const alerts = [makeAlert(), makeAlert({ title: 'bad \ud800 title' }), makeAlert(), makeAlert()];
    await p.publish(alerts, noHeartbeat);
    await p.flushStored();
    expect(stored.map((r) => r.alert_id).sort()).toEqual(
      [alerts[0]!, alerts[2]!, alerts[3]!].map((a) => a.alert_id).sort(),
    );
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0]!.value).alert_id).toBe(alerts[1]!.alert_id);
    expect(dead[0]!.headers).toMatchObject({
      'x-agenttrail-code': 'AT_ERR_CLICKHOUSE_REJECTED',
      'x-agenttrail-clickhouse-code': '25',
      'x-agenttrail-reason': expect.stringMatching(/code 25 CANNOT_PARSE_ESCAPE_SEQUENCE/),
    });
  });
});
