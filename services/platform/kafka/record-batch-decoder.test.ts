import { deepStrictEqual } from 'node:assert';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prng as rng } from '../../../scenarios/prng.js';
import {
  type DecodedBatch,
  decodeOrdinary,
  decodeRecordBatch,
  installed,
  KAFKAJS_RECORD_BATCH_DECODER_FILE,
  kafkajsDecodeRecordBatch,
  type RecordBatchDecoder,
} from './record-batch-decoder.js';

// Differential: batches encoded by kafkajs' own encoder (recordBatch/v0 + record/v0, as its
// producer builds them), decoded by kafkajs' own decoder and by decodeRecordBatch, must come out
// the same: every field, its type, its property order, the Buffers' bytes and the memory they view,
// the shared batchContext, where the decoder is left, and any error.

const require = createRequire(import.meta.url);
const protocolDir = dirname(dirname(dirname(KAFKAJS_RECORD_BATCH_DECODER_FILE)));
type Encoder = { buffer: Buffer };
const { RecordBatch } = require(join(protocolDir, 'recordBatch/v0/index.js')) as {
  RecordBatch: (o: Record<string, unknown>) => Promise<Encoder>;
};
const kafkajsRecord = require(join(protocolDir, 'recordBatch/record/v0/index.js')) as (
  o: Record<string, unknown>,
) => Encoder;

/**
 * kafkajs' record encoder. It writes a null header value as -1, as other producers do, but sizes
 * the record with `Buffer.byteLength(value)` before its own null branch, which throws on null:
 * that one call counts null as 0 bytes while it runs, so the null branch sizes it (1 byte for -1).
 */
function Record(o: Record<string, unknown>): Encoder {
  const byteLength = Buffer.byteLength;
  Buffer.byteLength = ((v: unknown, ...rest: never[]) =>
    v === null ? 0 : byteLength(v as string, ...rest)) as typeof Buffer.byteLength;
  try {
    return kafkajsRecord(o);
  } finally {
    Buffer.byteLength = byteLength;
  }
}
const Decoder = require(join(protocolDir, 'decoder.js')) as new (
  b: Buffer,
) => { buffer: Buffer; offset: number };
const Long = require(join(dirname(protocolDir), 'utils/long.js')) as {
  fromValue(v: string | number): unknown;
};

const HEADER_KEYS = [
  'x-agenttrail-validated',
  'x-agenttrail-event-id',
  'trace',
  '',
  'ключ',
  '鍵🔑',
  'constructor',
  'toString',
  '__proto__',
  'null',
  '0',
  '17',
];

function randomBuffer(r: () => number): Buffer | null {
  const kind = r();
  if (kind < 0.1) return null;
  if (kind < 0.2) return Buffer.alloc(0);
  if (kind < 0.35) return Buffer.from(`значение ✓ ${Math.floor(r() * 1e9)} 🎉`);
  if (kind < 0.403) {
    const large = Buffer.alloc(100_000 + Math.floor(r() * 200_000), (r() * 256) | 0);
    for (let i = 0; i < 64; i++) large[Math.floor(r() * large.length)] = (r() * 256) | 0;
    return large;
  }
  return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => (r() * 256) | 0));
}

function randomHeaders(r: () => number): Record<string, Buffer | null | Array<Buffer | null>> {
  const headers: Record<string, Buffer | null | Array<Buffer | null>> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const key = HEADER_KEYS[Math.floor(r() * HEADER_KEYS.length)]!;
    const value = r() < 0.15 ? null : Buffer.from(r() < 0.5 ? 'v1;hash=ok' : `é${i}`);
    // Arrays: kafkajs' encoder writes one header per element (a repeated key on the wire).
    Object.defineProperty(headers, key, {
      value: r() < 0.3 ? [value, Buffer.from('again'), null] : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return headers;
}

const FIRST_OFFSETS = ['0', '7', '123456789', '9007199254740000', '9223372036854775000', '-5'];
const FIRST_TIMESTAMPS = [1_765_000_000_000, 0, -1, 9_007_199_254_740_990, '9223372036854775000'];

/** One batch from kafkajs' encoder, its attribute bits optionally forced after encoding. */
async function encodeBatch(r: () => number): Promise<Buffer> {
  const count = r() < 0.05 ? 0 : 1 + Math.floor(r() * 40);
  // Timestamp deltas: within a day, then varints of 4-5 bytes, of up to 7 (decoded here), of 8 (kafkajs').
  const spreads = [100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 2 ** 28, 2 ** 48, 2 ** 52];
  const spread = spreads[Math.floor(r() * spreads.length)]!;
  const records = Array.from({ length: count }, (_, i) =>
    Record({
      offsetDelta: r() < 0.1 ? Math.floor(r() * 2 ** 31) - 2 ** 30 : i * (1 + Math.floor(r() * 3)),
      timestampDelta: Math.floor((r() - 0.4) * spread),
      key: randomBuffer(r),
      value: randomBuffer(r),
      headers: randomHeaders(r),
    }),
  );
  const encoded = await RecordBatch({
    compression: r() < 0.1 ? 1 : 0, // GZIP: kafkajs' path
    firstOffset: Long.fromValue(FIRST_OFFSETS[Math.floor(r() * FIRST_OFFSETS.length)]!),
    firstTimestamp: FIRST_TIMESTAMPS[Math.floor(r() * FIRST_TIMESTAMPS.length)]!,
    maxTimestamp: 1_765_000_000_999,
    partitionLeaderEpoch: Math.floor(r() * 10),
    lastOffsetDelta: count - 1,
    transactional: r() < 0.2,
    producerId: Long.fromValue(r() < 0.5 ? -1 : 4242),
    producerEpoch: Math.floor(r() * 5),
    firstSequence: Math.floor(r() * 1000),
    records,
  });
  const buf = Buffer.from(encoded.buffer);
  // Attributes (int16 at 21): control batch, log-append time; the decoders do not check the CRC.
  if (r() < 0.15) buf.writeInt16BE(buf.readInt16BE(21) | 0x20, 21);
  if (r() < 0.15) buf.writeInt16BE(buf.readInt16BE(21) | 0x08, 21);
  if (r() < 0.05) buf.writeInt8(1, 16); // another magic byte: carried through as is
  return buf;
}

type Outcome = { batches: DecodedBatch[]; offsets: number[]; error?: { name: string; message: string } };

/** Decode every batch of `buf` as decodeMessages does, until the bytes run out or one throws. */
async function decodeAll(decode: RecordBatchDecoder, buf: Buffer): Promise<Outcome> {
  const decoder = new Decoder(buf);
  const out: Outcome = { batches: [], offsets: [] };
  while (decoder.buffer.length - decoder.offset >= 49) {
    try {
      out.batches.push(await decode(decoder));
      out.offsets.push(decoder.offset);
    } catch (e) {
      out.error = { name: (e as Error).name, message: (e as Error).message };
      out.offsets.push(decoder.offset);
      break;
    }
  }
  return out;
}

/**
 * What deepStrictEqual does not see: property order, the shared batchContext, and the memory the
 * Buffers view (the fetched bytes where kafkajs' do; a compressed batch's are of what each
 * decoder decompressed, never the fetched bytes).
 */
function layout(o: Outcome, fetched: Buffer): unknown {
  const view = (x: Buffer | null) =>
    x === null ? null : x.buffer === fetched.buffer ? [x.byteOffset, x.length] : x.buffer === fetched.buffer;
  return o.batches.map((batch) => [
    Object.keys(batch),
    batch.records.map((rec) => [
      Object.keys(rec),
      Object.keys(rec.headers),
      Object.keys(rec.batchContext),
      Object.getPrototypeOf(rec.headers) === Object.prototype,
      rec.batchContext === batch.records[0]!.batchContext,
      Buffer.isBuffer(rec.key) || rec.key === null,
      Buffer.isBuffer(rec.value) || rec.value === null,
      view(rec.key),
      view(rec.value),
    ]),
  ]);
}

/** Both decoders on the same bytes: equal in every way the test can see. */
async function expectSame(buf: Buffer, what: string): Promise<Outcome> {
  const theirs = await decodeAll(kafkajsDecodeRecordBatch, buf);
  const ours = await decodeAll(decodeRecordBatch, buf);
  deepStrictEqual(ours, theirs, what);
  deepStrictEqual(layout(ours, buf), layout(theirs, buf), what);
  return ours;
}

describe('decodeRecordBatch', () => {
  it("equals kafkajs' decoder on 300 random buffers of 1-6 batches from kafkajs' encoder", async () => {
    let records = 0;
    let headers = 0;
    let ordinary = 0; // batches decoded here, not handed to kafkajs' decoder
    let handedOver = 0; // compressed ones, and those with a timestamp delta of 8 varint bytes
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const batches = await Promise.all(
        Array.from({ length: 1 + Math.floor(r() * 6) }, () => encodeBatch(r)),
      );
      for (const batch of batches) {
        if (decodeOrdinary(new Decoder(batch)) !== undefined) ordinary++;
        else handedOver++;
      }
      const out = await expectSame(Buffer.concat(batches), `seed ${seed}`);
      expect(out.error, `seed ${seed}`).toBeUndefined();
      for (const b of out.batches) {
        records += b.records.length;
        for (const rec of b.records) headers += Object.keys(rec.headers).length;
      }
    }
    expect(records).toBeGreaterThan(10_000);
    expect(headers).toBeGreaterThan(10_000);
    expect(ordinary).toBeGreaterThan(3 * handedOver);
    expect(handedOver).toBeGreaterThan(50);
  }, 60_000);

  it('decodes what the ingester sees: offsets and timestamps as strings, headers with repeats', async () => {
    const encoded = await RecordBatch({
      firstOffset: Long.fromValue('41'),
      firstTimestamp: 1_765_000_000_000,
      maxTimestamp: 1_765_000_000_500,
      lastOffsetDelta: 1,
      records: [
        Record({
          offsetDelta: 0,
          timestampDelta: 0,
          key: Buffer.from('k'),
          value: Buffer.from('{"a":1}'),
          headers: { a: Buffer.from('1'), b: [Buffer.from('2'), null, Buffer.from('3')], constructor: null },
        }),
        Record({ offsetDelta: 1, timestampDelta: -500, key: null, value: null }),
      ],
    });
    const [batch] = (await decodeAll(decodeRecordBatch, encoded.buffer)).batches;
    const [first, second] = batch!.records;
    expect(first).toMatchObject({ offset: '41', timestamp: '1765000000000', magicByte: 2, attributes: 0 });
    expect(first!.key).toEqual(Buffer.from('k'));
    expect(first!.headers).toEqual({
      a: Buffer.from('1'),
      b: [Buffer.from('2'), null, Buffer.from('3')],
      constructor: [Object, null], // kafkajs' fold starts from Object.prototype's value: kept
    });
    expect(second).toMatchObject({
      offset: '42',
      timestamp: '1764999999500',
      key: null,
      value: null,
      headers: {},
    });
    expect(second!.isControlRecord).toBe(false);
  });

  it("hands partial, corrupted and compressed batches to kafkajs' decoder: the same result or error", async () => {
    let errors = 0;
    let ordinaryCorrupted = 0;
    for (let seed = 1000; seed < 1200; seed++) {
      const r = rng(seed);
      const buf = Buffer.concat([await encodeBatch(r), await encodeBatch(r)]);
      // Truncated (a partial batch at the tail, as a fetch's max bytes cut it).
      const cut = buf.subarray(0, Math.floor(r() * buf.length));
      if ((await expectSame(cut, `seed ${seed} cut`)).error) errors++;
      // Bytes changed in the records (lengths, varints, counts), and in the batch header.
      const bad = Buffer.from(buf);
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
        bad[Math.floor(r() < 0.2 ? 8 + r() * 53 : r() * bad.length)] = (r() * 256) | 0;
      }
      if ((await expectSame(bad, `seed ${seed} corrupted`)).error) errors++;
      // Where the change keeps the shape (a byte of a key, a value, a header), decoded here.
      if (decodeOrdinary(new Decoder(bad)) !== undefined) ordinaryCorrupted++;
    }
    expect(errors).toBeGreaterThan(50); // the error paths were exercised, not only the happy one
    expect(ordinaryCorrupted).toBeGreaterThan(50);
  }, 60_000);

  it('is what kafkajs fetch decoding uses once this module is loaded first', async () => {
    expect(installed).toBe(true);
    expect(require(KAFKAJS_RECORD_BATCH_DECODER_FILE)).toBe(decodeRecordBatch);
    const decodeMessages = require(join(protocolDir, 'requests/fetch/v4/decodeMessages.js')) as (
      d: unknown,
    ) => Promise<unknown[]>;
    const batch = (
      await RecordBatch({
        firstOffset: Long.fromValue('10'),
        lastOffsetDelta: 2,
        records: [0, 1, 2].map((i) =>
          Record({
            offsetDelta: i,
            key: Buffer.from(`k${i}`),
            value: Buffer.from('v'),
            headers: { h: Buffer.from('x') },
          }),
        ),
      })
    ).buffer;
    const body = Buffer.concat([Buffer.alloc(4), batch]);
    body.writeInt32BE(batch.length, 0);
    const messages = await decodeMessages(new Decoder(body));
    deepStrictEqual(messages, (await decodeAll(kafkajsDecodeRecordBatch, batch)).batches[0]!.records);
  });
});
