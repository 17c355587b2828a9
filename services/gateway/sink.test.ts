import { EventEmitter } from 'node:events';
import type { Message, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaSink } from './sink.js';

// The coalescing sink with a fake producer: requests queued during a send go out together in
// the next one, each resolves only with its send's ack, and a failure rejects all it carried.

function fakeProducer() {
  const emitter = new EventEmitter();
  const sends: Message[][] = [];
  let release: Array<(err?: Error) => void> = [];
  const producer = {
    events: { CONNECT: 'connect', DISCONNECT: 'disconnect' },
    on: (e: string, f: () => void) => emitter.on(e, f),
    send: async ({ messages }: { messages: Message[] }) => {
      sends.push(messages);
      await new Promise<void>((resolve, reject) => {
        release.push((err) => (err ? reject(err) : resolve()));
      });
    },
  };
  return {
    producer: producer as unknown as Producer,
    sends,
    connect: () => emitter.emit('connect'),
    /** Acknowledge (or fail) every send in flight. */
    settle(err?: Error) {
      const r = release;
      release = [];
      for (const f of r) f(err);
    },
  };
}

const msg = (id: string) => ({ key: `k-${id}`, value: Buffer.from(`{"id":"${id}"}`) });
const tick = () => new Promise((r) => setImmediate(r));

describe('kafkaSink', () => {
  it('coalesces requests queued behind a send and resolves each on its ack', async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 5000);
    f.connect();
    const a = sink.produce([msg('a')]);
    await tick();
    const b = sink.produce([msg('b1'), msg('b2')]);
    const c = sink.produce([msg('c')]);
    await tick();
    expect(f.sends.map((s) => s.map((m) => m.key))).toEqual([['k-a']]);
    expect(f.sends[0]![0]!.headers).toEqual({ 'x-agenttrail-validated': 'v1' });
    let bDone = false;
    void b.then(() => {
      bDone = true;
    });
    f.settle();
    await a;
    await tick();
    expect(bDone).toBe(false);
    expect(f.sends[1]!.map((m) => m.key)).toEqual(['k-b1', 'k-b2', 'k-c']);
    f.settle();
    await Promise.all([b, c]);
    expect(sink.ready()).toBe(true);
  });

  it('rejects every request of a failed send and reports not ready', async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 5000);
    f.connect();
    const a = sink.produce([msg('a')]);
    await tick();
    const b = sink.produce([msg('b')]);
    const c = sink.produce([msg('c')]);
    f.settle();
    await a;
    await tick();
    f.settle(new Error('broker away'));
    await expect(b).rejects.toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
    await expect(c).rejects.toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
    expect(sink.ready()).toBe(false);
  });

  it('never sends a request that timed out while queued', async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 100);
    f.connect();
    const a = sink.produce([msg('a')]).catch((e) => e);
    await tick();
    const b = sink.produce([msg('b')]).catch((e) => e);
    expect(await b).toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
    expect(await a).toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
    expect(sink.ready()).toBe(false);
    f.settle();
    await tick();
    await tick();
    expect(f.sends.length).toBe(1);
  });

  // 109 bytes each as counted: 'k-x' (3) + '{"id":"x"}' (10) + 96 of record overhead.
  it('splits a request above the flush size into sends within it, and resolves after the last ack', async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 5000, { maxFlushBytes: 250 });
    f.connect();
    let done = false;
    const a = sink.produce(['a', 'b', 'c', 'd', 'e'].map(msg)).then(() => {
      done = true;
    });
    await tick();
    f.settle();
    await tick();
    f.settle();
    await tick();
    expect(done).toBe(false);
    f.settle();
    await a;
    expect(f.sends.map((s) => s.map((m) => m.key))).toEqual([['k-a', 'k-b'], ['k-c', 'k-d'], ['k-e']]);
  });

  it('refuses one event above the flush size with a 413 naming its index and the limit, sending nothing', async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 5000, { maxFlushBytes: 120 });
    f.connect();
    const big = { key: 'k', value: Buffer.from('x'.repeat(100)) };
    await expect(sink.produce([msg('a'), big])).rejects.toMatchObject({
      code: 'AT_ERR_BODY_TOO_LARGE',
      message: expect.stringMatching(/^event 1 is 197 bytes as stored; the per-event limit is 120/),
    });
    expect(f.sends.length).toBe(0);
    expect(sink.ready()).toBe(true);
  });

  it("answers a broker's size refusal with a non-retriable 413 and stays ready", async () => {
    const f = fakeProducer();
    const sink = kafkaSink(f.producer, 't', 5000);
    f.connect();
    const a = sink.produce([msg('a')]);
    await tick();
    const refusal = Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE' });
    f.settle(Object.assign(new Error('non-retriable'), { cause: refusal }));
    await expect(a).rejects.toMatchObject({ code: 'AT_ERR_BODY_TOO_LARGE', retriable: false });
    expect(sink.ready()).toBe(true);
  });

  it('after a failed send, becomes ready again when a probe succeeds, without traffic', async () => {
    const f = fakeProducer();
    let kafkaBack = false;
    const sink = kafkaSink(f.producer, 't', 5000, {
      probeIntervalMs: 10,
      probe: async () => {
        if (!kafkaBack) throw new Error('still away');
      },
    });
    f.connect();
    const a = sink.produce([msg('a')]);
    await tick();
    f.settle(new Error('broker away'));
    await expect(a).rejects.toMatchObject({ code: 'AT_ERR_KAFKA_UNAVAILABLE' });
    expect(sink.ready()).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.ready()).toBe(false);
    kafkaBack = true;
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.ready()).toBe(true);
  });
});
