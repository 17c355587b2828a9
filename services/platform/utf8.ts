import { isUtf8 } from 'node:buffer';

// Bytes that are not UTF-8 are refused wherever text enters (the gateway's body, a Kafka
// message): decoding them would put U+FFFD in place of what was sent, and the record would no
// longer be what its sender said.

export { isUtf8 };

/** Offset of the first byte that starts no valid UTF-8 sequence (call only on bytes isUtf8 refused). */
export function firstInvalidUtf8Byte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n =
      c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length || !isUtf8(b.subarray(i, i + n))) return i;
    i += n;
  }
  return i;
}

/** Why `b` is not UTF-8 text, or undefined when it is. */
export function notUtf8Reason(b: Uint8Array): string | undefined {
  return isUtf8(b) ? undefined : `not valid UTF-8 (near byte ${firstInvalidUtf8Byte(b)})`;
}
