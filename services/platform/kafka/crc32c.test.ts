import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, installed, KAFKAJS_CRC32C_FILE } from './crc32c.js';

/** Bit by bit, straight from the polynomial: the reference the tables must agree with. */
function reference(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of buf) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('gives the known CRC-32C check values (RFC 3720 B.4, the "123456789" check)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('equals the bitwise reference at every length around the 8-byte stride, and on large buffers', () => {
    for (let n = 0; n < 40; n++) {
      const b = randomBytes(n);
      expect(crc32c(b), `length ${n}`).toBe(reference(b));
    }
    const big = randomBytes(1 << 20);
    expect(crc32c(big)).toBe(reference(big));
    // A view into a larger buffer (kafkajs passes Buffers that may be slices of a pool).
    const view = big.subarray(3, 1003);
    expect(crc32c(view)).toBe(reference(view));
  });

  it('is what kafkajs uses for record batches once this module is loaded first', () => {
    expect(installed).toBe(true);
    const require = createRequire(import.meta.url);
    const kafkaCrc = require(join(dirname(KAFKAJS_CRC32C_FILE), 'index.js')) as (b: Buffer) => number;
    expect(require(KAFKAJS_CRC32C_FILE)).toBe(crc32c);
    const b = randomBytes(4099);
    expect(kafkaCrc(b)).toBe(reference(b));
  });
});
