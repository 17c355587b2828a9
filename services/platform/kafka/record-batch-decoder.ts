import { join } from 'node:path';
import { KAFKAJS_SRC, kafkajsRequire } from './kafkajs-source.js';

// kafkajs' fetch decoding of record batches, one pass over the fetched bytes instead of kafkajs'
// own src/protocol/recordBatch/v0/decoder.js and its per-record record/v0/decoder.js: kafkajs
// makes a Decoder and a slice per record, adds each offset and timestamp delta in BigInt-backed
// Long objects built from strings, and folds the headers into a new object per header (spread).
// That was ~3 µs of the ingester's CPU per consumed row (18% of its profile under the ingest
// bench); here it is ~0.35-0.47 µs per record against kafkajs' 1.6-2.4 (in-process, the same
// batches), and the ingester's CPU per row in the ingest bench dropped 0.5-3.4 µs (median 2.3) in
// each of 6 interleaved pairs of 500k/1M events (the commit adding this file lists them).
//
// kafkajs has no option for it, so, as crc32c.ts does, this module puts `decodeRecordBatch` in the
// CommonJS module cache under kafkajs' own file name BEFORE kafkajs loads: fetch's
// `require('../../../recordBatch/v0/decoder')` (requests/fetch/v4/decodeMessages.js, its only
// user) then gets this function. Import it ahead of anything that imports kafkajs (the stage
// mains do, first). Loaded after kafkajs it changes nothing (`installed` says so).
//
// It returns what kafkajs' own returns, field for field (offsets and timestamps as decimal
// strings, key and value as Buffers over the fetched bytes or null, headers folded the same way,
// repeated keys into arrays, one shared `batchContext` per batch), and it does not try to be
// clever about anything unusual: a compressed batch, a partial one, a length or a varint out of
// the ordinary shape, anything that throws, is handed to kafkajs' own decoder from the same
// position, so its result (or its error) is kafkajs' own. Legacy message sets never come here
// (decodeMessages.js sends them to kafkajs' messageSet decoder). record-batch-decoder.test.ts
// holds it to kafkajs' decoder on batches encoded by kafkajs' own encoder.

/** kafkajs' Decoder, the part used here. */
interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
}

export interface DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

interface RecordContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
}

type BatchContext = RecordContext & { magicByte: number };

export type DecodedBatch = RecordContext & { records: DecodedRecord[] };

export type RecordBatchDecoder = (fetchDecoder: KafkaDecoder) => Promise<DecodedBatch>;

const require = kafkajsRequire;
const protocolDir = join(KAFKAJS_SRC, 'protocol');

/** kafkajs' own file, the one replaced (exported for the test). */
export const KAFKAJS_RECORD_BATCH_DECODER_FILE = join(protocolDir, 'recordBatch/v0/decoder.js');
/** The one kafkajs module that requires it: loaded already means too late to replace. */
const FETCH_DECODE_MESSAGES_FILE = join(protocolDir, 'requests/fetch/v4/decodeMessages.js');

/** kafkajs' registry of codecs (its public `CompressionCodecs`): a batch it has a codec for is compressed. */
const { Codecs } = require(join(protocolDir, 'message/compression/index.js')) as {
  Codecs: Record<number, unknown>;
};

/** kafkajs' own decoder (a leaf for this purpose: it requires only kafkajs' internals). */
export const kafkajsDecodeRecordBatch = require(KAFKAJS_RECORD_BATCH_DECODER_FILE) as RecordBatchDecoder;

const LOG_APPEND_TIME = 1; // kafkajs' TimestampTypes
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const COMPRESSION_CODEC_MASK = 0x07;
/** Bytes after the batch length up to and including the record count. */
const BATCH_HEADER = 49;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Thrown inside the fast path for anything off the ordinary shape: kafkajs' decoder then decides. */
const UNUSUAL = new Error('not an ordinary record batch');
const EMPTY = Buffer.alloc(0);

/**
 * Node's Buffer class proper (`Buffer[Symbol.species]`, what `buf.slice` constructs): a view made
 * with it directly is the same object kafkajs' slice makes, without slice's argument handling.
 */
const FastBuffer = (
  Buffer as unknown as { [Symbol.species]: new (ab: ArrayBufferLike, at: number, n: number) => Buffer }
)[Symbol.species];
const FAST_VIEWS = Object.getPrototypeOf(new FastBuffer(new ArrayBuffer(1), 0, 1)) === Buffer.prototype;

// Header keys repeat from record to record: the last few decoded, with their bytes, so a key
// seen before is compared, not decoded again (the same bytes are the same string).
const KEYS_KEPT = 8;
const KEY_BYTES_KEPT = 64;

/**
 * The cursor: the bytes, the position, and the end of what may be read (the record's end, or the
 * batch's while reading a record's length). kafkajs reads each record through its own slice, so a
 * read past that end would be kafkajs reading `undefined` bytes: never done here, handed over.
 */
class Reader {
  b: Buffer = EMPTY;
  ab: ArrayBufferLike = EMPTY.buffer;
  base = 0;
  p = 0;
  end = 0;
  /** Bytes of the last varint read, or of the last run. */
  width = 0;
  readonly keptBytes: Buffer[] = [];
  readonly keptKeys: string[] = [];
  nextKept = 0;

  at(b: Buffer, p: number): void {
    this.b = b;
    this.ab = b.buffer;
    this.base = b.byteOffset;
    this.p = p;
  }

  /** kafkajs' readVarInt before its zigzag: the bytes' 7 bits each, shifted in 32 bits. */
  raw(): number {
    const b = this.b;
    const end = this.end;
    const start = this.p;
    let p = start;
    let byte: number;
    let result = 0;
    let i = 0;
    do {
      if (p >= end) throw UNUSUAL;
      byte = b[p++]!;
      result += (byte & 0x7f) << i;
      i += 7;
    } while (byte >= 0x80);
    this.p = p;
    this.width = p - start;
    return result;
  }

  /** kafkajs' readVarInt (32-bit zigzag). */
  varInt(): number {
    const r = this.raw();
    return (r >>> 1) ^ -(r & 1);
  }

  /**
   * kafkajs' readVarLong (zigzag in BigInt, never wrapping) as a number: up to 4 bytes (28 bits)
   * the 32-bit sum is exact; up to 7 (49 bits) the bytes are summed again as a double; longer
   * ones are handed over.
   */
  varLong(): number {
    let v = this.raw();
    const width = this.width;
    if (width > 4) {
      if (width > 7) throw UNUSUAL;
      v = 0;
      for (let k = this.p - 1; k >= this.p - width; k--) v = v * 128 + (this.b[k]! & 0x7f);
    }
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  /**
   * kafkajs' varint-length-prefixed run: its start, with the cursor past it and its length in
   * `width`; -1 for length -1 (kafkajs' null).
   */
  run(): number {
    const n = this.varInt();
    if (n === -1) return -1;
    const at = this.p;
    if (n < 0 || at + n > this.end) throw UNUSUAL;
    this.p = at + n;
    this.width = n;
    return at;
  }

  /** kafkajs' readVarIntBytes: a view of the fetched bytes, or null. */
  bytes(): Buffer | null {
    const at = this.run();
    if (at < 0) return null;
    const n = this.width;
    return FAST_VIEWS ? new FastBuffer(this.ab, this.base + at, n) : this.b.slice(at, at + n);
  }

  /** kafkajs' readVarIntString (UTF-8), or null. */
  string(): string | null {
    const at = this.run();
    if (at < 0) return null;
    const n = this.width;
    const { b, keptBytes, keptKeys } = this;
    for (let k = 0; k < keptKeys.length; k++) {
      const kept = keptBytes[k]!;
      if (kept.length !== n) continue;
      let i = 0;
      while (i < n && kept[i] === b[at + i]) i++;
      if (i === n) return keptKeys[k]!;
    }
    const s = b.toString('utf8', at, at + n);
    if (n <= KEY_BYTES_KEPT) {
      keptBytes[this.nextKept] = Buffer.from(b.subarray(at, at + n));
      keptKeys[this.nextKept] = s;
      this.nextKept = (this.nextKept + 1) % KEYS_KEPT;
    }
    return s;
  }
}

const reader = new Reader();

/** A signed 64-bit decimal base as a number, NaN when not exact (the sum then goes through BigInt). */
function base(v: bigint): number {
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : Number.NaN;
}

/** `first + delta` as kafkajs' Long arithmetic prints it. */
function sum(first: number, firstBig: bigint, delta: number): string {
  const n = first + delta;
  return Number.isSafeInteger(n) ? decimal(n) : String(firstBig + BigInt(delta));
}

// V8 prints a small integer fast but one past 31 bits (every millisecond timestamp, large
// offsets) through its double printer, ~4x slower: such a number is printed as two small ones,
// its billions (the same from record to record, kept) and the 9 digits below.
const kept = { billions: -1, text: '' };

/** String(n) for a safe integer. */
function decimal(n: number): string {
  if (n < 2 ** 31 && n >= -(2 ** 31)) return String(n);
  if (n < 0) return String(n);
  const billions = Math.floor(n / 1e9);
  if (billions !== kept.billions) {
    kept.billions = billions;
    kept.text = String(billions);
  }
  return kept.text + String(1e9 + (n - billions * 1e9)).slice(1);
}

type Headers = DecodedRecord['headers'];

/**
 * kafkajs' fold of the header list into an object: the first value of a key as is, a second makes
 * an array of both, later ones are appended. Its fold reads `obj[key]` on a plain object, so a key
 * inherited from Object.prototype (`constructor`, `toString`, …) starts from that value as kafkajs'
 * does, and it defines properties (spread), so `__proto__` becomes an own property here too.
 */
function addHeader(h: Headers, key: string, value: Buffer | null): void {
  const prev = h[key];
  const next = prev === undefined ? value : Array.isArray(prev) ? prev.concat([value]) : [prev, value];
  if (key === '__proto__') {
    Object.defineProperty(h, key, { value: next, writable: true, enumerable: true, configurable: true });
  } else h[key] = next;
}

/** The records of an uncompressed batch; throws UNUSUAL (or anything else) where kafkajs must decide. */
function decodeFast(fetchDecoder: KafkaDecoder): DecodedBatch | undefined {
  const buf = fetchDecoder.buffer;
  const at = fetchDecoder.offset;
  if (!Buffer.isBuffer(buf) || !Number.isInteger(at) || at < 0 || at + 12 > buf.length) return undefined;
  const length = buf.readInt32BE(at + 8);
  const s = at + 12;
  const batchEnd = s + length;
  if (length < BATCH_HEADER || batchEnd > buf.length) return undefined;
  const attributes = buf.readInt16BE(s + 9);
  if (Codecs[attributes & COMPRESSION_CODEC_MASK]) return undefined;

  const firstOffsetBig = buf.readBigInt64BE(at);
  const firstTimestampBig = buf.readBigInt64BE(s + 15);
  const recordContext: RecordContext = {
    firstOffset: String(firstOffsetBig),
    firstTimestamp: String(firstTimestampBig),
    partitionLeaderEpoch: buf.readInt32BE(s),
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta: buf.readInt32BE(s + 11),
    producerId: String(buf.readBigInt64BE(s + 31)),
    producerEpoch: buf.readInt16BE(s + 39),
    firstSequence: buf.readInt32BE(s + 41),
    maxTimestamp: String(buf.readBigInt64BE(s + 23)),
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : 0,
  };
  const magicByte = buf.readInt8(s + 4);
  const batchContext: BatchContext = { ...recordContext, magicByte };
  const { isControlBatch, maxTimestamp } = recordContext;
  const logAppendTime = recordContext.timestampType === LOG_APPEND_TIME;
  const firstOffset = base(firstOffsetBig);
  const firstTimestamp = base(firstTimestampBig);

  const count = buf.readInt32BE(s + 45);
  const rd = reader;
  rd.at(buf, s + BATCH_HEADER);
  // kafkajs' readArray: -1 is none; each record takes 2 bytes at least, so more cannot be there.
  if (count < -1 || count > (batchEnd - rd.p) / 2) throw UNUSUAL;
  const records: DecodedRecord[] = new Array(Math.max(count, 0));
  let lastDelta = Number.NaN;
  let timestamp = maxTimestamp;
  for (let r = 0; r < count; r++) {
    rd.end = batchEnd;
    const recordLength = rd.varInt();
    const recordEnd = rd.p + recordLength;
    if (recordLength <= 0 || recordEnd > batchEnd) throw UNUSUAL;
    rd.end = recordEnd;
    const recordAttributes = (buf[rd.p++]! << 24) >> 24;
    const timestampDelta = rd.varLong();
    // Records of a batch often share a timestamp (kafkajs' producer gives a whole request one):
    // the string of the last delta is reused.
    if (timestampDelta !== lastDelta) {
      lastDelta = timestampDelta;
      timestamp = logAppendTime ? maxTimestamp : sum(firstTimestamp, firstTimestampBig, timestampDelta);
    }
    const offset = sum(firstOffset, firstOffsetBig, rd.varInt());
    const key = rd.bytes();
    const value = rd.bytes();
    const headers: Headers = {};
    const headerCount = rd.varInt();
    if (headerCount < -1) throw UNUSUAL;
    for (let h = 0; h < headerCount; h++) {
      const headerKey = rd.string();
      addHeader(headers, headerKey ?? 'null', rd.bytes());
    }
    records[r] = {
      magicByte,
      attributes: recordAttributes,
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
    // kafkajs reads each record from its own slice and ignores what it leaves unread.
    rd.p = recordEnd;
  }
  return { ...recordContext, records };
}

/**
 * The batch at the decoder's position, when it is uncompressed and of the ordinary shape, without
 * moving the decoder; undefined when kafkajs' own decoder must decide (exported for the test).
 */
export function decodeOrdinary(fetchDecoder: KafkaDecoder): DecodedBatch | undefined {
  try {
    return decodeFast(fetchDecoder);
  } catch {
    return undefined;
  } finally {
    reader.at(EMPTY, 0); // hold no fetched buffer past the call
  }
}

/** kafkajs' recordBatch/v0 decoder: the same result from the same bytes, the same decoder moves. */
export async function decodeRecordBatch(fetchDecoder: KafkaDecoder): Promise<DecodedBatch> {
  const batch = decodeOrdinary(fetchDecoder);
  if (batch === undefined) return kafkajsDecodeRecordBatch(fetchDecoder);
  // kafkajs reads the first offset (8) and the length (4), then forwards past the batch.
  fetchDecoder.offset += 12 + fetchDecoder.buffer.readInt32BE(fetchDecoder.offset + 8);
  return batch;
}

/**
 * Whether kafkajs will use `decodeRecordBatch`: true when its fetch decoding had not been loaded
 * yet when this module ran (the cache entry is replaced), false when it had.
 */
export const installed: boolean = (() => {
  if (require.cache[FETCH_DECODE_MESSAGES_FILE] !== undefined) return false;
  require.cache[require.resolve(KAFKAJS_RECORD_BATCH_DECODER_FILE)]!.exports = decodeRecordBatch;
  return true;
})();
