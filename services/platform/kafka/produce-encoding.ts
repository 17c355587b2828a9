import { join } from 'node:path';
// Before kafkajs' record-batch CRC module loads (kafkajs' request module, loaded below, needs it).
import { crc32c } from './crc32c.js';
import { KAFKAJS_SRC, kafkajsRequire } from './kafkajs-source.js';

// kafkajs' Produce request (v3, which v4–v7 extend), encoded into ONE buffer of the exact size,
// byte for byte what kafkajs writes, instead of kafkajs' way: per message an object spread, a
// zero-filled 512-byte Encoder that grows by copying, a Buffer per varint and per header, then
// every record copied into the batch, the batch into the partition, the partition into the
// topic. That was ~29% of the gateway's busy CPU in a profile of `npm run bench -- gateway`
// (plus the garbage it leaves). Also kafkajs' grouping of messages per partition, which copies
// each partition's array for every message (quadratic in the send's size).
//
// kafkajs has no option for either, so, as crc32c.ts does, this module puts its functions in the
// CommonJS module cache under kafkajs' own file names BEFORE kafkajs loads them. Import it ahead
// of anything that imports kafkajs (the services' mains do, first). What the lean encoder does
// not take exactly as kafkajs would (compression, per-message timestamps, a key, value or header
// of another type than string, Buffer or null) goes to kafkajs' own encoder, unchanged.
// produce-encoding.test.ts holds both to kafkajs' own modules on random sends; the gateway's
// integration tests prove the broker accepts them.

const require = kafkajsRequire;
const src = KAFKAJS_SRC;
const file = (rel: string) => require.resolve(join(src, rel));

const REQUEST_V3_FILE = file('protocol/requests/produce/v3/request.js');
const GROUP_FILE = file('producer/groupMessagesPerPartition.js');
/** Modules that capture the v3 request (v4 wraps v3, v5 v4 …) or the grouping when they load. */
const CAPTURING = [
  ...['v4', 'v5', 'v6', 'v7'].map((v) => file(`protocol/requests/produce/${v}/request.js`)),
  file('producer/sendMessages.js'),
];

interface KafkaLong {
  getHighBits(): number;
  getLowBits(): number;
}
const Long = require(join(src, 'utils/long.js')) as {
  fromValue(v: unknown): KafkaLong;
  fromInt(v: number): KafkaLong;
};
const Encoder = require(join(src, 'protocol/encoder.js')) as new (
  initialSize?: number,
) => { buf: Buffer; offset: number };

type Bytes = Buffer | string | null | undefined;
export interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
  timestamp?: unknown;
  [other: string]: unknown;
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; messages: ProduceMessage[]; firstSequence?: number }[];
  }[];
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<unknown>;
}
type RequestModule = (args: ProduceArgs) => ProduceRequest;

/** kafkajs' own v3 request module (the reference; also what the lean one falls back to). */
export const kafkajsProduceRequest = require(REQUEST_V3_FILE) as RequestModule;
/** kafkajs' own grouping of a send's messages per partition. */
export const kafkajsGroupMessagesPerPartition = require(GROUP_FILE) as typeof groupMessagesPerPartition;

const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
/** Record batch header up to the records: firstOffset … the record count. */
const BATCH_HEADER_BYTES = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Where the CRC'd part of a batch starts (after firstOffset, length, leader epoch, magic, crc). */
const CRC_FROM = 8 + 4 + 4 + 1 + 4;

const isBytes = (v: unknown): v is Bytes => v == null || typeof v === 'string' || Buffer.isBuffer(v);

/** kafkajs' zig-zag varint (32-bit), as Encoder.sizeOfVarInt / writeVarInt compute it. */
function varIntSize(value: number): number {
  let v = (value << 1) ^ (value >> 31);
  let n = 1;
  while ((v & 0xffffff80) !== 0) {
    n++;
    v >>>= 7;
  }
  return n;
}
function writeVarInt(buf: Buffer, at: number, value: number): number {
  let v = (value << 1) ^ (value >> 31);
  while ((v & 0xffffff80) !== 0) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v & 0x7f;
  return at;
}
const byteLength = (b: Buffer | string): number =>
  typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length;
function writeBytes(buf: Buffer, at: number, b: Buffer | string, len: number): number {
  if (typeof b === 'string') buf.write(b, at, len, 'utf8');
  else b.copy(buf, at);
  return at + len;
}
function writeInt64(buf: Buffer, at: number, value: unknown): void {
  const long = Long.fromValue(value);
  buf.writeInt32BE(long.getHighBits(), at);
  buf.writeInt32BE(long.getLowBits(), at + 4);
}

/** One header key/value as kafkajs flattens `headers` (arrays give one header per element). */
interface Header {
  key: string;
  value: Buffer | string;
  keyLen: number;
  valueLen: number;
}

/**
 * Sizes of one partition's records (each record's body, in `sizes`) and its flattened headers,
 * or undefined when a message needs kafkajs' own encoder.
 */
function planRecords(
  messages: readonly ProduceMessage[],
  sizes: number[],
  headers: (Header[] | undefined)[],
): number | undefined {
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const { key, value } = m;
    if (m.timestamp != null || !isBytes(key) || !isBytes(value)) return undefined;
    // Attributes (1) and timestampDelta 0 as a varlong (1).
    let size = 2 + varIntSize(i);
    size += key == null ? 1 : varIntSize(byteLength(key)) + byteLength(key);
    size += value == null ? 1 : varIntSize(byteLength(value)) + byteLength(value);
    let list: Header[] | undefined;
    const h = m.headers;
    if (h !== undefined) {
      if (h === null || typeof h !== 'object') return undefined;
      for (const k of Object.keys(h)) {
        const v = h[k];
        for (const one of Array.isArray(v) ? v : [v]) {
          // kafkajs measures a null or non-byte header value with Buffer.byteLength and throws.
          if (one == null || !isBytes(one)) return undefined;
          const keyLen = Buffer.byteLength(k, 'utf8');
          const valueLen = byteLength(one);
          if (list === undefined) list = [];
          list.push({ key: k, value: one, keyLen, valueLen });
          size += varIntSize(keyLen) + keyLen + varIntSize(valueLen) + valueLen;
        }
      }
    }
    size += varIntSize(list?.length ?? 0);
    sizes[i] = size;
    headers[i] = list;
    total += varIntSize(size) + size;
  }
  return total;
}

interface PlannedPartition {
  partition: number;
  firstSequence: number | undefined;
  messages: readonly ProduceMessage[];
  sizes: number[];
  headers: (Header[] | undefined)[];
  recordsBytes: number;
}

/**
 * The payload kafkajs' v3 request `encode()` returns, as one Buffer, or undefined when a
 * message needs kafkajs' own encoder. Compression must be None (the caller checks).
 */
export function encodeProduce(args: ProduceArgs, now: number = Date.now()): Buffer | undefined {
  const transactionalId = args.transactionalId ?? null;
  const producerId = args.producerId === undefined ? Long.fromInt(-1) : args.producerId;
  const producerEpoch = args.producerEpoch === undefined ? 0 : args.producerEpoch;
  const attributes = transactionalId ? TRANSACTIONAL_MASK : 0;

  const txLen = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8');
  let total = 2 + txLen + 2 + 4 + 4;
  const topics: { topic: string; topicLen: number; partitions: PlannedPartition[] }[] = [];
  for (const t of args.topicData) {
    const topicLen = Buffer.byteLength(t.topic, 'utf8');
    total += 2 + topicLen + 4;
    const partitions: PlannedPartition[] = [];
    for (const p of t.partitions) {
      const sizes: number[] = new Array(p.messages.length);
      const headers: (Header[] | undefined)[] = new Array(p.messages.length);
      const recordsBytes = planRecords(p.messages, sizes, headers);
      if (recordsBytes === undefined) return undefined;
      partitions.push({
        partition: p.partition,
        firstSequence: p.firstSequence,
        messages: p.messages,
        sizes,
        headers,
        recordsBytes,
      });
      total += 4 + 4 + BATCH_HEADER_BYTES + recordsBytes;
    }
    topics.push({ topic: t.topic, topicLen, partitions });
  }

  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  if (transactionalId === null) {
    buf.writeInt16BE(-1, at);
    at += 2;
  } else {
    buf.writeInt16BE(txLen, at);
    at = writeBytes(buf, at + 2, transactionalId, txLen);
  }
  buf.writeInt16BE(args.acks, at);
  buf.writeInt32BE(args.timeout, at + 2);
  buf.writeInt32BE(topics.length, at + 6);
  at += 10;
  for (const t of topics) {
    buf.writeInt16BE(t.topicLen, at);
    at = writeBytes(buf, at + 2, t.topic, t.topicLen);
    buf.writeInt32BE(t.partitions.length, at);
    at += 4;
    for (const p of t.partitions) at = writePartition(buf, at, p, attributes, now, producerId, producerEpoch);
  }
  return buf;
}

/** partition, record set size, and the record batch (kafkajs' RecordBatch v0 layout). */
function writePartition(
  buf: Buffer,
  at: number,
  p: PlannedPartition,
  attributes: number,
  now: number,
  producerId: unknown,
  producerEpoch: number,
): number {
  const batchBytes = BATCH_HEADER_BYTES + p.recordsBytes;
  buf.writeInt32BE(p.partition, at);
  buf.writeInt32BE(batchBytes, at + 4);
  const start = at + 8;
  writeInt64(buf, start, 0); // firstOffset
  buf.writeInt32BE(batchBytes - 12, start + 8); // what follows the length
  buf.writeInt32BE(0, start + 12); // partitionLeaderEpoch
  buf[start + 16] = MAGIC_BYTE;
  // CRC at start + 17, written once the body is.
  let o = start + CRC_FROM;
  buf.writeInt16BE(attributes, o);
  buf.writeInt32BE(p.messages.length - 1, o + 2); // lastOffsetDelta
  writeInt64(buf, o + 6, now); // firstTimestamp
  writeInt64(buf, o + 14, now); // maxTimestamp
  writeInt64(buf, o + 22, producerId);
  buf.writeInt16BE(producerEpoch, o + 30);
  buf.writeInt32BE(p.firstSequence === undefined ? 0 : p.firstSequence, o + 32);
  buf.writeInt32BE(p.messages.length, o + 36);
  o += 40;
  for (let i = 0; i < p.messages.length; i++) {
    const { key, value } = p.messages[i]!;
    o = writeVarInt(buf, o, p.sizes[i]!);
    buf[o++] = 0; // attributes
    buf[o++] = 0; // timestampDelta 0 (zig-zag varlong)
    o = writeVarInt(buf, o, i);
    if (key == null) o = writeVarInt(buf, o, -1);
    else {
      const len = byteLength(key);
      o = writeBytes(buf, writeVarInt(buf, o, len), key, len);
    }
    if (value == null) o = writeVarInt(buf, o, -1);
    else {
      const len = byteLength(value);
      o = writeBytes(buf, writeVarInt(buf, o, len), value, len);
    }
    const headers = p.headers[i];
    o = writeVarInt(buf, o, headers?.length ?? 0);
    if (headers)
      for (const h of headers) {
        o = writeBytes(buf, writeVarInt(buf, o, h.keyLen), h.key, h.keyLen);
        o = writeBytes(buf, writeVarInt(buf, o, h.valueLen), h.value, h.valueLen);
      }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(start + CRC_FROM, o)), start + 17);
  return o;
}

/** kafkajs' request module, its encode() lean where `encodeProduce` takes the send. */
export const leanProduceRequest: RequestModule = (args) => {
  const request = kafkajsProduceRequest(args);
  if ((args.compression ?? 0) !== 0) return request;
  const kafkajsEncode = request.encode;
  request.encode = async () => {
    const buf = encodeProduce(args);
    if (buf === undefined) return kafkajsEncode();
    // An Encoder holding exactly these bytes, as kafkajs' request framing expects.
    const encoder = new Encoder(1);
    encoder.buf = buf;
    encoder.offset = buf.length;
    return encoder;
  };
  return request;
};

/** kafkajs' groupMessagesPerPartition, same result, without copying an array per message. */
export function groupMessagesPerPartition<M>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}): Record<string, M[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<string, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list === undefined) result[partition] = [message];
    else list.push(message);
  }
  return result;
}

/**
 * Whether kafkajs uses the lean encoder and grouping: true when none of the modules that capture
 * them had loaded when this module ran, false when one had (kafkajs then keeps its own).
 */
export const installed: boolean = (() => {
  if (CAPTURING.some((f) => require.cache[f] !== undefined)) return false;
  require.cache[REQUEST_V3_FILE]!.exports = leanProduceRequest;
  require.cache[GROUP_FILE]!.exports = groupMessagesPerPartition;
  return true;
})();
