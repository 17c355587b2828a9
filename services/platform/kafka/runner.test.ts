import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { KafkaClient } from './client.js';
import type { Durable } from './offsets.js';
import { createStageRunner, type StageControl, type StageHandler } from './runner.js';

// The runner's contract with a stage, on a fake kafkajs consumer that hands over the batches a
// test gives it: the handler is made with the runner's control; only what the handler made
// durable is committed; a failed stage takes nothing more, runs no timer, is neither healthy
// nor ready and tells `onFatal` once; stop drains, commits and runs no timer after.

const TOPIC = 'events';

function fakeKafka() {
  let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
  const listeners = new Map<string, (e: unknown) => void>();
  const commits: Array<Array<{ partition: number; offset: string }>> = [];
  const consumer = {
    events: { HEARTBEAT: 'heartbeat', GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (name: string, f: (e: unknown) => void) => listeners.set(name, f),
    connect: async () => {},
    subscribe: async () => {},
    run: async (opts: { eachBatch: (payload: unknown) => Promise<void> }) => {
      eachBatch = opts.eachBatch;
    },
    pause: vi.fn(),
    commitOffsets: async (offsets: Array<{ partition: number; offset: string }>) => {
      commits.push(offsets.map(({ partition, offset }) => ({ partition, offset })));
    },
    disconnect: async () => {},
  };
  const kafka = { consumer: () => consumer, admin: () => ({}) } as unknown as KafkaClient;
  return {
    kafka,
    commits,
    join(partitions: number[]) {
      listeners.get('join')!({ payload: { memberAssignment: { [TOPIC]: partitions } } });
    },
    /** One batch of `offsets` on `partition`, as kafkajs hands it over. */
    async batch(partition: number, offsets: number[]) {
      await eachBatch!({
        batch: {
          topic: TOPIC,
          partition,
          highWatermark: String((offsets.at(-1) ?? 0) + 1),
          messages: offsets.map((o) => ({ key: null, value: null, offset: String(o), timestamp: '0' })),
        },
        resolveOffset: () => {},
        isRunning: () => true,
        isStale: () => false,
        heartbeat: async () => {},
        pause: () => () => {},
      });
    },
  };
}

const log = pino({ level: 'silent' });
const settings = { topic: TOPIC, groupId: 'g', sessionTimeoutMs: 30_000 };

describe('stage runner', () => {
  it('gives the handler its control, and commits only what the handler made durable', async () => {
    const fake = fakeKafka();
    let control: StageControl | undefined;
    const units: Array<{ done(): void }> = [];
    const runner = createStageRunner({
      kafka: fake.kafka,
      log,
      settings,
      handler: (c): StageHandler => {
        control = c;
        return {
          async onBatch(batch, ctx) {
            const unit = c.tracker.unit();
            units.push(unit);
            for (const m of batch.messages) ctx.take(m.offset, unit);
          },
        };
      },
    });
    expect(control?.tracker).toBe(runner.tracker);
    await runner.start();
    fake.join([0]);
    expect(runner.ready()).toEqual({ ok: true });
    await fake.batch(0, [0, 1, 2]);
    await fake.batch(0, [3, 4]);
    await control!.commit();
    // Nothing durable yet: the commit point stays at the first offset taken.
    expect(fake.commits.at(-1)).toEqual([{ partition: 0, offset: '0' }]);
    units[0]!.done();
    await control!.commit();
    expect(fake.commits.at(-1)).toEqual([{ partition: 0, offset: '3' }]);
    units[1]!.done();
    await runner.stop();
    expect(fake.commits.at(-1)).toEqual([{ partition: 0, offset: '5' }]);
    expect(runner.healthy()).toBe(false);
  });

  it('after fail: takes nothing more, runs no timer, is not healthy or ready, tells onFatal once', async () => {
    vi.useFakeTimers();
    try {
      const fake = fakeKafka();
      const onFatal = vi.fn();
      const seen: string[] = [];
      let ticks = 0;
      let control: StageControl | undefined;
      const runner = createStageRunner({
        kafka: fake.kafka,
        log,
        settings,
        onFatal,
        handler: (c) => {
          control = c;
          return {
            async onBatch(batch, ctx) {
              for (const m of batch.messages) {
                if (!ctx.owned()) break;
                seen.push(m.offset);
                ctx.take(m.offset);
                if (m.offset === '1') c.fail(new Error('state ahead of what is durable'));
              }
            },
            timers: [{ what: 'tick', everyMs: 100, run: () => void ticks++ }],
          };
        },
      });
      await runner.start();
      fake.join([0]);
      await vi.advanceTimersByTimeAsync(250);
      expect(ticks).toBe(2);
      expect(runner.healthy()).toBe(true);

      await fake.batch(0, [0, 1, 2, 3]);
      expect(seen).toEqual(['0', '1']);
      expect(control!.failed).toBe(true);
      control!.fail(new Error('again'));
      expect(onFatal).toHaveBeenCalledTimes(1);
      expect(runner.healthy()).toBe(false);
      expect(runner.ready()).toMatchObject({ ok: false, reason: expect.stringContaining('stage failed') });
      await vi.advanceTimersByTimeAsync(500);
      expect(ticks).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop drains the handler, then commits, and its timers run no more', async () => {
    vi.useFakeTimers();
    try {
      const fake = fakeKafka();
      const order: string[] = [];
      let ticks = 0;
      let held: Durable | undefined;
      const runner = createStageRunner({
        kafka: fake.kafka,
        log,
        settings,
        handler: (c) => ({
          async onBatch(batch, ctx) {
            held = c.tracker.unit();
            for (const m of batch.messages) ctx.take(m.offset, held);
          },
          async drain() {
            order.push(`drain (commits so far: ${fake.commits.length})`);
            held?.done();
          },
          timers: [{ what: 'tick', everyMs: 100, run: () => void ticks++ }],
        }),
      });
      await runner.start();
      fake.join([2]);
      await fake.batch(2, [7, 8]);
      await runner.stop();
      expect(order).toEqual(['drain (commits so far: 0)']);
      expect(fake.commits).toEqual([[{ partition: 2, offset: '9' }]]);
      await vi.advanceTimersByTimeAsync(500);
      expect(ticks).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
