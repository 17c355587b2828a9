import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../scenarios/prng.js';
import {
  type FramingState,
  installed,
  KAFKAJS_CONNECTION_FILE,
  kafkajsProcessData,
  MAX_PREALLOCATED,
  processData,
} from './response-frames.js';

// response-frames.ts against kafkajs' own Connection#processData: the same byte streams, cut at
// random points, with SASL handlers coming and going between chunks, must give the same
// responses (correlation id, size, payload bytes), the same auth handler calls, the same errors,
// and the same bytes left buffered.

type Event = [string, ...unknown[]];

/** A connection's framing state as kafkajs' constructor makes it, logging what it hands on. */
function connection() {
  const events: Event[] = [];
  const c: FramingState = {
    authHandlers: null,
    authExpectResponse: false,
    chunks: [],
    bytesBuffered: 0,
    bytesNeeded: 4,
    requestQueue: {
      fulfillRequest: ({ size, correlationId, payload }) =>
        events.push(['response', correlationId, size, payload.toString('hex')]),
    },
  };
  return { c, events };
}

/** kafkajs' sendAuthRequest's handlers: each clears them, as kafkajs' do. */
function authenticate(c: FramingState, events: Event[], expectResponse: boolean): void {
  c.authExpectResponse = expectResponse;
  c.authHandlers = {
    onSuccess: (data) => {
      c.authHandlers = null;
      c.authExpectResponse = false;
      events.push(['auth', data.toString('hex')]);
    },
    onError: () => {},
  };
}

/** The bytes held for the next call: kafkajs' chunks, or the response being filled. */
function buffered(c: FramingState): string {
  const frame = (c as unknown as Record<symbol, Buffer | undefined>)[
    Object.getOwnPropertySymbols(c).find((s) => s.description === 'agenttrail:responseFrame')!
  ];
  return (frame ? frame.subarray(0, c.bytesBuffered) : Buffer.concat(c.chunks)).toString('hex');
}

function feed(c: FramingState, events: Event[], method: typeof processData, data: Buffer): void {
  try {
    method.call(c, data);
  } catch (err) {
    events.push(['throw', (err as Error).constructor.name, (err as Error).message]);
  }
}

/** A response as a broker frames it: size, correlation id, body. */
function response(next: () => number, correlationId: number): Buffer {
  const r = next();
  const body =
    r < 0.6
      ? Math.floor(next() * 200)
      : r < 0.95
        ? Math.floor(next() * 70_000)
        : Math.floor(next() * 600_000);
  const b = Buffer.allocUnsafe(8 + body);
  b.writeInt32BE(4 + body, 0);
  b.writeInt32BE(correlationId, 4);
  for (let i = 8; i < b.length; i++) b[i] = (i * 31 + correlationId) & 0xff;
  return b;
}

/** `stream` cut into pieces of 1 byte to 200 KB (often a few bytes: cuts through size prefixes). */
function pieces(next: () => number, stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const r = next();
    const n =
      r < 0.2
        ? 1 + Math.floor(next() * 6)
        : r < 0.7
          ? Math.floor(next() * 70_000)
          : Math.floor(next() * 200_000);
    // Each piece its own Buffer, as the socket's are.
    out.push(Buffer.from(stream.subarray(at, at + Math.max(1, n))));
    at += Math.max(1, n);
  }
  return out;
}

/** Both methods over the same pieces; auth handlers set before some pieces. */
function run(next: () => number, chunks: Buffer[], authRate: number) {
  const kafkajs = connection();
  const ours = connection();
  for (const chunk of chunks) {
    if (next() < authRate && !kafkajs.c.authHandlers) {
      const expectResponse = next() < 0.7;
      authenticate(kafkajs.c, kafkajs.events, expectResponse);
      authenticate(ours.c, ours.events, expectResponse);
    }
    feed(kafkajs.c, kafkajs.events, kafkajsProcessData, chunk);
    feed(ours.c, ours.events, processData, chunk);
  }
  return { kafkajs, ours };
}

function expectSame(r: ReturnType<typeof run>): void {
  expect(r.ours.events.length).toBe(r.kafkajs.events.length);
  for (const [i, e] of r.kafkajs.events.entries())
    if (JSON.stringify(e) !== JSON.stringify(r.ours.events[i]))
      expect.fail(
        `event ${i}: kafkajs ${JSON.stringify(e).slice(0, 200)}, ours ${JSON.stringify(r.ours.events[i]).slice(0, 200)}`,
      );
  expect(r.ours.c.bytesBuffered).toBe(r.kafkajs.c.bytesBuffered);
  expect(r.ours.c.bytesNeeded).toBe(r.kafkajs.c.bytesNeeded);
  expect(buffered(r.ours.c)).toBe(buffered(r.kafkajs.c));
}

describe('response framing', () => {
  it('is what kafkajs connections use', () => {
    const require = createRequire(import.meta.url);
    const Connection = require(KAFKAJS_CONNECTION_FILE) as { prototype: { processData: unknown } };
    expect(installed).toBe(true);
    expect(Connection.prototype.processData).toBe(processData);
    expect(kafkajsProcessData).not.toBe(processData);
    expect(String(kafkajsProcessData)).toContain('Buffer.concat(this.chunks)');
  });

  it('hands on the responses kafkajs does, from streams cut at random points', () => {
    const next = prng(1414);
    let responses = 0;
    let auths = 0;
    for (let round = 0; round < 120; round++) {
      const frames = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) =>
        response(next, round * 100 + i),
      );
      // The last one sometimes left incomplete.
      const stream = Buffer.concat(frames);
      const cut = next() < 0.3 ? stream.subarray(0, Math.floor(next() * stream.length)) : stream;
      const r = run(next, pieces(next, cut), round % 3 === 0 ? 0.15 : 0);
      expectSame(r);
      responses += r.kafkajs.events.filter((e) => e[0] === 'response').length;
      auths += r.kafkajs.events.filter((e) => e[0] === 'auth').length;
    }
    // What was compared: many responses, and auth handlers of both kinds were exercised.
    expect(responses).toBeGreaterThan(1000);
    expect(auths).toBeGreaterThan(20);
  });

  it('agrees on frames no broker sends: sizes 0-3, negative, above the preallocation limit', () => {
    const next = prng(7);
    const odd = (size: number, extra: number) => {
      const b = Buffer.alloc(4 + extra, 0x5a);
      b.writeInt32BE(size, 0);
      return b;
    };
    const cases = [
      odd(0, 0),
      odd(3, 3),
      odd(-1, 12),
      odd(-2, 12),
      odd(-9, 20),
      odd(-40, 20),
      odd(MAX_PREALLOCATED + 1, 100_000),
      odd(2 ** 31 - 1, 5000),
    ];
    for (let round = 0; round < 200; round++) {
      const frames = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) =>
        next() < 0.4 ? cases[Math.floor(next() * cases.length)]! : response(next, i),
      );
      expectSame(run(next, pieces(next, Buffer.concat(frames)), 0.05));
    }
  });

  it('copies a response arriving in one chunk not at all, one arriving in pieces once', () => {
    const next = prng(3);
    const ours = connection();
    const one = response(next, 1);
    processData.call(ours.c, one);
    expect(ours.events).toHaveLength(1);
    // The payload is a view of the socket's chunk (kafkajs copied it after an empty remainder).
    const frames: Buffer[] = [];
    ours.c.requestQueue.fulfillRequest = ({ payload }) => frames.push(payload);
    const two = Buffer.concat([one, one]);
    processData.call(ours.c, two);
    expect(frames.map((p) => p.buffer === two.buffer)).toEqual([true, true]);
    // In pieces: one buffer of the response's size, filled in place.
    const big = Buffer.alloc(8 + 300_000, 1);
    big.writeInt32BE(4 + 300_000, 0);
    for (let at = 0; at < big.length; at += 65_536)
      processData.call(ours.c, Buffer.from(big.subarray(at, at + 65_536)));
    expect(frames).toHaveLength(3);
    expect(frames[2]!.byteOffset).toBe(8);
    expect(frames[2]!.buffer.byteLength).toBe(big.length);
    expect(frames[2]!.equals(big.subarray(8))).toBe(true);
  });
});
