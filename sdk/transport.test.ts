import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';
import { wellFormed } from './test-helpers.js';
import { classifyStatus, httpTransport, parseRetryAfter } from './transport.js';

describe('transport', () => {
  it('classifies statuses: 2xx accepted, 408/429/5xx retried, other 4xx rejected', () => {
    expect([202, 400, 401, 403, 408, 413, 422, 429, 500, 503].map(classifyStatus)).toEqual([
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'retry',
      'rejected',
      'rejected',
      'retry',
      'retry',
      'retry',
    ]);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('posts a JSON array with the key, and reads 503 + Retry-After as retry', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const t = httpTransport({
      endpoint: 'http://gw.test/',
      apiKey: 'k1',
      fetch: (async (url: string, init: RequestInit) => {
        calls.push({ url, init });
        return new Response(JSON.stringify({ code: 'AT_ERR_KAFKA_UNAVAILABLE', message: 'kafka' }), {
          status: 503,
          headers: { 'retry-after': '2' },
        });
      }) as typeof fetch,
    });
    await expect(t.send([])).resolves.toEqual({
      kind: 'retry',
      status: 503,
      message: 'kafka',
      retryAfterMs: 2000,
    });
    expect(calls[0]!.url).toBe('http://gw.test/v1/events');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer k1');
  });

  it('bounds a non-JSON refusal text without leaving half a surrogate pair', async () => {
    const t = httpTransport({
      endpoint: 'http://gw.test',
      apiKey: 'k',
      fetch: (async () => new Response(`${'x'.repeat(199)}😀 tail`, { status: 400 })) as typeof fetch,
    });
    const r = await t.send([]);
    expect(r.kind).toBe('rejected');
    expect(r.kind === 'rejected' && wellFormed(r.message)).toBe(true);
  });

  it('turns a network failure into retry', async () => {
    const t = httpTransport({
      endpoint: 'http://gw.test',
      apiKey: 'k',
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    await expect(t.send([])).resolves.toMatchObject({ kind: 'retry', message: 'network: fetch failed' });
  });
});

describe('backoff', () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5 };
  it('grows exponentially under a cap, with full jitter', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => retryDelayMs(a, opts, undefined, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(retryDelayMs(3, opts, undefined, () => 0)).toBe(0);
  });
  it('treats Retry-After as a floor', () => {
    expect(retryDelayMs(0, opts, 5000, () => 0.5)).toBe(5050);
  });
});
