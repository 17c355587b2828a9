import { join } from 'node:path';
import { KAFKAJS_SRC, kafkajsRequire } from './kafkajs-source.js';

// CRC-32C (Castagnoli) for kafkajs' record batches, slice-by-8 instead of kafkajs' own
// byte-at-a-time table loop (src/protocol/recordBatch/crc32C/crc32C.js): kafkajs checksums every
// partition's batch body once per send, and that loop was ~4% of the gateway's CPU profile.
//
// kafkajs has no option for it, so this module puts `crc32c` in the CommonJS module cache under
// kafkajs' own file name BEFORE kafkajs loads: its `require('./crc32C')` then gets this function.
// Import it ahead of anything that imports kafkajs (services/gateway/main.ts does, first). Loaded
// after kafkajs it changes nothing (`installed` says so) and kafkajs keeps its own, equal, CRC.
// crc32c.test.ts checks the known CRC-32C vectors and kafkajs' function; the gateway's integration
// tests prove the broker accepts the batches.

/** Reflected CRC-32C polynomial. */
const POLY = 0x82f63b78;

/** 8 tables of 256: T[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const T = new Int32Array(8 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[b] = c;
}
for (let b = 0; b < 256; b++) {
  for (let k = 1; k < 8; k++) {
    const prev = T[(k - 1) * 256 + b]!;
    T[k * 256 + b] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** CRC-32C of `buf`, unsigned, as kafkajs' crc32C.js returns it. */
export function crc32c(buf: Uint8Array): number {
  let crc = -1;
  const n = buf.length;
  let i = 0;
  for (const end = n - (n & 7); i < end; i += 8) {
    crc ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    crc =
      T[1792 + (crc & 0xff)]! ^
      T[1536 + ((crc >>> 8) & 0xff)]! ^
      T[1280 + ((crc >>> 16) & 0xff)]! ^
      T[1024 + (crc >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < n; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const require = kafkajsRequire;
const crcDir = join(KAFKAJS_SRC, 'protocol/recordBatch/crc32C');

/** kafkajs' own file, the one replaced (exported for the test). */
export const KAFKAJS_CRC32C_FILE = join(crcDir, 'crc32C.js');

/**
 * Whether kafkajs will use `crc32c`: true when its record-batch CRC module had not been loaded
 * yet when this module ran (the cache entry is replaced), false when it had.
 */
export const installed: boolean = (() => {
  if (require.cache[join(crcDir, 'index.js')] !== undefined) return false;
  const mod = require.cache[require.resolve(KAFKAJS_CRC32C_FILE)];
  if (mod === undefined) {
    // Load kafkajs' file (a leaf: no requires of its own), then swap what it exports.
    require(KAFKAJS_CRC32C_FILE);
  }
  require.cache[require.resolve(KAFKAJS_CRC32C_FILE)]!.exports = crc32c;
  return true;
})();
