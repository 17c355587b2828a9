import { describe, expect, it } from 'vitest';
import { HASH_HEADER, hashCheck, isValidated, VALIDATED_HEADER } from './headers.js';

// kafkajs hands consumers header values as Buffers; producers and tests may use strings.
describe('event headers', () => {
  const marked = { [VALIDATED_HEADER]: Buffer.from('v1') };

  it('reads the schema mark as a Buffer or a string, and nothing else', () => {
    expect(isValidated(marked)).toBe(true);
    expect(isValidated({ [VALIDATED_HEADER]: 'v1' })).toBe(true);
    expect(isValidated({ [VALIDATED_HEADER]: 'v2' })).toBe(false);
    expect(isValidated({})).toBe(false);
    expect(isValidated(undefined)).toBe(false);
  });

  it.each([
    ['ok', 'ok'],
    ['mismatch', 'mismatch'],
    ['OK', undefined],
    ['', undefined],
  ])('hash verdict %j → %s', (value, expected) => {
    expect(hashCheck({ ...marked, [HASH_HEADER]: Buffer.from(value) })).toBe(expected);
    expect(hashCheck({ ...marked, [HASH_HEADER]: value })).toBe(expected);
  });

  it('ignores a hash verdict without the schema mark (not written by the gateway)', () => {
    expect(hashCheck({ [HASH_HEADER]: 'ok' })).toBeUndefined();
    expect(hashCheck(marked)).toBeUndefined();
  });
});
