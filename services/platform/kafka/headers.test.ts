import { describe, expect, it } from 'vitest';
import { hashCheck, isValidated, VALIDATED_HEADER, validatedValue } from './headers.js';

// kafkajs hands consumers header values as Buffers; producers and tests may use strings.
describe('the gateway mark', () => {
  const as = (value: string | Buffer) => ({ [VALIDATED_HEADER]: value });

  it.each([
    [undefined, 'v1'],
    ['ok', 'v1;hash=ok'],
    ['mismatch', 'v1;hash=mismatch'],
  ] as const)('hash %s is written as %j and read back, as a Buffer or a string', (verdict, value) => {
    expect(validatedValue(verdict)).toBe(value);
    for (const h of [as(value), as(Buffer.from(value))]) {
      expect(isValidated(h)).toBe(true);
      expect(hashCheck(h)).toBe(verdict);
    }
  });

  it.each(['v2', 'v1;hash=OK', 'v1;hash=', 'v1;', ''])('%j is no mark', (value) => {
    expect(isValidated(as(value))).toBe(false);
    expect(hashCheck(as(Buffer.from(value)))).toBeUndefined();
  });

  it('no header, no mark', () => {
    expect(isValidated({})).toBe(false);
    expect(isValidated(undefined)).toBe(false);
    expect(hashCheck({ 'x-agenttrail-hash': 'ok' })).toBeUndefined();
  });
});
