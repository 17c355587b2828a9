import { join } from 'node:path';
import { KAFKAJS_SRC, kafkajsRequire } from './kafkajs-source.js';

// kafkajs' framing of the responses it reads from a broker connection (Connection#processData in
// src/network/connection.js), with each response's bytes copied once. kafkajs keeps the socket's
// chunks in an array and concatenates them whenever it looks at them: when a response's size has
// arrived but not all of its body, it concatenates what it has (after every complete response its
// remainder is an empty Buffer, so the first chunk of the next response is always copied there),
// and once the body is complete it concatenates everything again. Here, once the size is known,
// one buffer of that size is allocated and every chunk is copied into it as it arrives, and the
// chunks are let go at once; a response that arrives inside one chunk is not copied at all.
// Buffer.concat under processData was ~8% of the ingester's busy time. In-process, 64 KB chunks:
// responses of 200 KB 0.35 -> 0.25 ms per MiB, of 1 MiB 0.37 -> 0.33, of 32 MiB the same (1.06
// and 1.08: there the one big copy is what costs, in both).
//
// It is kafkajs' algorithm otherwise, on kafkajs' own fields (chunks, bytesBuffered, bytesNeeded,
// authHandlers, authExpectResponse, requestQueue): the same responses, with the same correlation
// ids, sizes and payload bytes, handed to the same places in the same order; a SASL handshake's
// raw data and framed responses go to its handlers as kafkajs hands them; a response after an
// authentication response waits in the buffer for the next chunk, as in kafkajs. A negative
// size (no broker sends one) is left to kafkajs' own method, whose arithmetic decides what
// happens (it is given no new bytes; its first check, for raw auth data, is false there as it was
// at the start of this call); a size above MAX_PREALLOCATED is buffered as kafkajs buffers it (a corrupt size must
// not allocate gigabytes at once). response-frames.test.ts feeds the same byte streams, cut at
// random points, to both methods.
//
// A prototype patch, not a module-cache swap: it takes effect for every connection whenever it is
// loaded, as long as it is before responses arrive (services load it with the lean codecs,
// lean-codecs.ts). Loading kafkajs' connection.js here loads none of the files the lean codecs
// replace.

interface AuthHandlers {
  onSuccess(data: Buffer): unknown;
  onError(): unknown;
}

/** The part of kafkajs' Connection that processData uses. */
export interface FramingState {
  authHandlers: AuthHandlers | null;
  authExpectResponse: boolean;
  chunks: Buffer[];
  bytesBuffered: number;
  bytesNeeded: number;
  requestQueue: { fulfillRequest(r: { size: number; correlationId: number; payload: Buffer }): void };
  /** The response being filled: its size prefix and body (bytesNeeded bytes), bytesBuffered of them so far. */
  [FRAME]?: Buffer;
}

type ProcessData = (this: FramingState, rawData: Buffer) => unknown;

interface KafkaDecoder {
  readInt32(): number;
  readAll(): Buffer;
}

const require = kafkajsRequire;
const srcDir = KAFKAJS_SRC;

/** kafkajs' own file, the one whose class is patched (exported for the test). */
export const KAFKAJS_CONNECTION_FILE = join(srcDir, 'network/connection.js');
const Decoder = require(join(srcDir, 'protocol/decoder.js')) as new (b: Buffer) => KafkaDecoder;
const proto = (require(KAFKAJS_CONNECTION_FILE) as { prototype: Record<symbol | string, unknown> }).prototype;

const FRAME = Symbol('agenttrail:responseFrame');
/** Where kafkajs' own method is kept (global: this module may be evaluated more than once in tests). */
const KAFKAJS = Symbol.for('agenttrail:kafkajsProcessData');
/** Responses larger than this are buffered as kafkajs does (chunks, then one concatenation). */
export const MAX_PREALLOCATED = 256 * 1024 * 1024;
const SIZE_BYTES = 4;
const NOTHING = Buffer.alloc(0);
const CONTINUE = Symbol('agenttrail:continue');

proto[KAFKAJS] ??= proto.processData;
/** kafkajs' own processData (exported for the test). */
export const kafkajsProcessData = proto[KAFKAJS] as ProcessData;

/** kafkajs' processData, copying each response once (above). */
export function processData(this: FramingState, rawData: Buffer): unknown {
  if (this.authHandlers && !this.authExpectResponse) return this.authHandlers.onSuccess(rawData);

  const frame = this[FRAME];
  if (frame !== undefined) {
    const filled = this.bytesBuffered;
    const missing = frame.length - filled;
    if (rawData.length < missing) {
      frame.set(rawData, filled);
      this.bytesBuffered = filled + rawData.length;
      return;
    }
    frame.set(missing === rawData.length ? rawData : rawData.subarray(0, missing), filled);
    this[FRAME] = undefined;
    const result = framed(this, frame, rawData.subarray(missing));
    if (result !== CONTINUE) return result;
  } else {
    this.chunks.push(rawData);
    this.bytesBuffered += rawData.length;
  }

  while (this.bytesNeeded <= this.bytesBuffered) {
    const buffer = this.chunks.length > 1 ? Buffer.concat(this.chunks) : this.chunks[0]!;
    const size = buffer.readInt32BE(0);
    if (size < 0) {
      // What kafkajs does with it (its Decoder's slicing) is kafkajs' own method's business: it
      // runs on the state it would have, given no new bytes.
      this.chunks = [buffer];
      this.bytesBuffered = buffer.length;
      this.bytesNeeded = SIZE_BYTES;
      return kafkajsProcessData.call(this, NOTHING);
    }
    if (buffer.length - SIZE_BYTES < size) {
      // The body is incomplete: everything buffered belongs to this response.
      this.bytesBuffered = buffer.length;
      this.bytesNeeded = SIZE_BYTES + size;
      if (size > MAX_PREALLOCATED) {
        this.chunks = [buffer];
        return;
      }
      const f = Buffer.allocUnsafe(SIZE_BYTES + size);
      f.set(buffer, 0);
      this[FRAME] = f;
      this.chunks = [];
      return;
    }
    const end = SIZE_BYTES + size;
    const result = framed(
      this,
      end === buffer.length ? buffer : buffer.subarray(0, end),
      buffer.subarray(end),
    );
    if (result !== CONTINUE) return result;
  }
}

/**
 * One complete response (`frame`: its size prefix and body) and the bytes after it: kafkajs'
 * state for the bytes after it, then the response to the auth handlers (which ends this data
 * event, as in kafkajs) or to the request queue (CONTINUE).
 */
function framed(c: FramingState, frame: Buffer, rest: Buffer): unknown {
  // kafkajs keeps the remainder even when empty; an empty one is dropped here (it is what made
  // kafkajs copy the next chunk), which changes no byte it reads.
  c.chunks = rest.length > 0 ? [rest] : [];
  c.bytesBuffered = rest.length;
  c.bytesNeeded = SIZE_BYTES;
  if (c.authHandlers) return c.authHandlers.onSuccess(frame);
  const response = new Decoder(frame.subarray(SIZE_BYTES));
  const correlationId = response.readInt32();
  const payload = response.readAll();
  c.requestQueue.fulfillRequest({ size: frame.length - SIZE_BYTES, correlationId, payload });
  return CONTINUE;
}

/** kafkajs' connections use `processData` from here on (its prototype's method is replaced). */
proto.processData = processData;
export const installed = proto.processData === processData;
