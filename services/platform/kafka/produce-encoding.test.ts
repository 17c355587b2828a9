import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { prng } from '../../../scenarios/prng.js';
import {
  encodeProduce,
  groupMessagesPerPartition,
  installed,
  kafkajsGroupMessagesPerPartition,
  kafkajsProduceRequest,
  leanProduceRequest,
  type ProduceArgs,
  type ProduceMessage,
} from './produce-encoding.js';

const require = createRequire(import.meta.url);
const src = join(dirname(require.resolve('kafkajs')), 'src');
const Long = require(join(src, 'utils/long.js')) as { fromValue(v: unknown): unknown };

// Seeded: a failure names its seed and replays.

const PIECES = ['a', 'é', '€', '😀', '\u0000', '{"k":1}', 'x'.repeat(70), 'ü'.repeat(40)];

function randomText(r: () => number, maxPieces: number): string {
  let s = '';
  const n = Math.floor(r() * maxPieces);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function randomBytes(r: () => number, allowNull: boolean): Buffer | string | null | undefined {
  const k = r();
  if (allowNull && k < 0.1) return null;
  if (allowNull && k < 0.15) return undefined;
  if (k < 0.5) return Buffer.from(randomText(r, 30));
  return randomText(r, k < 0.95 ? 30 : 400);
}

function randomMessage(r: () => number): ProduceMessage {
  const m: ProduceMessage = { key: randomBytes(r, true), value: randomBytes(r, true) };
  const h = r();
  if (h < 0.6) {
    const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
    const n = Math.floor(r() * 4);
    for (let i = 0; i < n; i++) {
      const key = `x-${randomText(r, 3)}${i}`;
      headers[key] =
        r() < 0.2
          ? [Buffer.from(randomText(r, 5)), randomText(r, 5)]
          : (randomBytes(r, false) as Buffer | string);
    }
    m.headers = headers;
  }
  // What kafkajs' producer adds to a message it has partitioned (not encoded).
  if (r() < 0.3) m.partition = 0;
  return m;
}

function randomArgs(r: () => number): ProduceArgs {
  const topics = 1 + Math.floor(r() * 2);
  return {
    acks: r() < 0.8 ? -1 : 1,
    timeout: 30_000,
    transactionalId: r() < 0.2 ? `tx-${randomText(r, 3)}` : undefined,
    producerId: r() < 0.7 ? Long.fromValue(Math.floor(r() * 2 ** 40)) : undefined,
    producerEpoch: r() < 0.7 ? Math.floor(r() * 10) : undefined,
    topicData: Array.from({ length: topics }, (_, t) => ({
      topic: `topic-${t}-${randomText(r, 2)}`,
      partitions: Array.from({ length: 1 + Math.floor(r() * 3) }, (_, p) => ({
        partition: p * 2 + Math.floor(r() * 2),
        firstSequence: r() < 0.6 ? Math.floor(r() * 1e6) : undefined,
        // Up to 150 records: offset deltas and record sizes cross the 1- and 2-byte varint boundaries.
        messages: Array.from({ length: 1 + Math.floor(r() * 150) }, () => randomMessage(r)),
      })),
    })),
  };
}

async function kafkajsBytes(args: ProduceArgs): Promise<Buffer> {
  return ((await kafkajsProduceRequest(args).encode()) as { buffer: Buffer }).buffer;
}

describe('lean produce encoding', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the bytes kafkajs writes, on 200 random sends', { timeout: 60_000 }, async () => {
    const now = 1_765_000_000_123;
    vi.spyOn(Date, 'now').mockReturnValue(now);
    for (let seed = 1; seed <= 200; seed++) {
      const args = randomArgs(prng(seed));
      const lean = encodeProduce(args, now);
      expect(lean, `seed ${seed}`).toBeDefined();
      expect(lean!.equals(await kafkajsBytes(args)), `seed ${seed}`).toBe(true);
    }
  });

  it('is kafkajs own encoding, byte for byte, through the request module (any now)', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(42);
    const args = randomArgs(prng(7));
    const encoded = (await leanProduceRequest(args).encode()) as { buffer: Buffer; size(): number };
    expect(encoded.buffer.equals(await kafkajsBytes(args))).toBe(true);
    expect(encoded.size()).toBe(encoded.buffer.length);
  });

  it('leaves what it does not take exactly to kafkajs: compression, timestamps, other types', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_000);
    const base = randomArgs(prng(11));
    const withTimestamp = structuredClone(base);
    withTimestamp.topicData[0]!.partitions[0]!.messages[0]!.timestamp = '999';
    const withNumberValue = structuredClone(base);
    withNumberValue.topicData[0]!.partitions[0]!.messages[0]!.value = 5 as unknown as string;
    const withNullHeader = structuredClone(base);
    withNullHeader.topicData[0]!.partitions[0]!.messages[0]!.headers = { a: null };
    for (const args of [withTimestamp, withNumberValue, withNullHeader]) {
      expect(encodeProduce(args, 1_000)).toBeUndefined();
    }
    const viaLean = (await leanProduceRequest(withTimestamp).encode()) as { buffer: Buffer };
    expect(viaLean.buffer.equals(await kafkajsBytes(withTimestamp))).toBe(true);
    // A null header value: kafkajs throws while measuring it; so does the lean module, by falling back.
    await expect(leanProduceRequest(withNullHeader).encode()).rejects.toThrow();
    await expect(kafkajsProduceRequest(withNullHeader).encode()).rejects.toThrow();
    const gzip = { ...base, compression: 1 };
    // Compressed: kafkajs' own encoding, whole (gzip of the same records is deterministic).
    const gzipped = (await leanProduceRequest(gzip).encode()) as { buffer: Buffer };
    expect(gzipped.buffer.equals(await kafkajsBytes(gzip))).toBe(true);
  });

  it('groups messages per partition as kafkajs does (same arrays, same key order)', () => {
    const r = prng(3);
    const messages = Array.from({ length: 2000 }, (_, i) => ({ i }));
    const partitioner = () => Math.floor(r() * 7);
    const picks = messages.map(() => partitioner());
    const replay = () => {
      let n = 0;
      return () => picks[n++]!;
    };
    const args = { topic: 't', partitionMetadata: [{}], messages };
    const ours = groupMessagesPerPartition({ ...args, partitioner: replay() });
    const theirs = kafkajsGroupMessagesPerPartition({ ...args, partitioner: replay() });
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours).toEqual(theirs);
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [], partitioner })).toEqual({});
  });

  it('is what kafkajs uses once this module is loaded first', () => {
    expect(installed).toBe(true);
    expect(require(join(src, 'protocol/requests/produce/v3/request.js'))).toBe(leanProduceRequest);
    expect(require(join(src, 'producer/groupMessagesPerPartition.js'))).toBe(groupMessagesPerPartition);
  });
});
