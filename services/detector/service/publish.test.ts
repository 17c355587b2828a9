import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { makeAlert } from '../../alerter/testing.js';
import { createLogger } from '../../platform/logger.js';
import { createStageMetrics } from '../../platform/metrics.js';
import { createDetectorMetrics } from './metrics.js';
import { AlertPublisher } from './publish.js';

const noHeartbeat = async () => {};

function publisher(insert: (rows: unknown[]) => Promise<void>, giveUp = () => false) {
  const sent: string[] = [];
  const producer = {
    send: async ({ messages }: { messages: Array<{ headers: Record<string, string> }> }) => {
      for (const m of messages) sent.push(m.headers['x-agenttrail-alert-id']!);
    },
  } as unknown as Producer;
  const clickhouse = {
    insert: ({ values }: { values: unknown[] }) => insert(values),
  } as unknown as ClickHouseClient;
  const metrics = createStageMetrics('detector');
  const p = new AlertPublisher({
    producer,
    clickhouse,
    topic: 'alerts',
    metrics,
    detectorMetrics: createDetectorMetrics(metrics.registry),
    log: createLogger('test', { level: 'silent' }),
    giveUp,
  });
  return { p, sent };
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
});
