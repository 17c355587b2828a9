import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { gatewayMessage } from '../../bench/ingest-events.js';
import { prng } from '../../scenarios/prng.js';
import { VALIDATED_HEADER } from '../platform/kafka/headers.js';
import { OffsetTracker } from '../platform/kafka/offsets.js';
import { createStageMetrics } from '../platform/metrics.js';
import { convertedValue, ingestHandler } from './loop.js';
import type { EventWriter } from './writer.js';

/** The check as it was written first (one Buffer search per key): what convertedValue must answer. */
function reference(v: Buffer): boolean {
  const keys: [Buffer, (c: number) => boolean][] = [
    [Buffer.from('"schema_version":'), (c) => c >= 0x30 && c <= 0x39],
    [Buffer.from('"seq":'), (c) => c >= 0x30 && c <= 0x39],
    [Buffer.from('"data":'), (c) => c === 0x7b],
  ];
  for (const [key, ok] of keys) {
    const at = v.indexOf(key);
    if (at !== -1 && !ok(v[at + key.length]!)) return true;
  }
  return false;
}

/** Pieces that make near misses: keys, their prefixes and suffixes, the rare bytes alone, values. */
const PIECES = [
  '"schema_version":',
  '"seq":',
  '"data":',
  '"schema_version"',
  'schema_version":',
  '"schema_',
  '_version":',
  '"se',
  'seq":',
  'q":',
  '"sq":',
  '"seqq":',
  '"data"',
  'data":',
  'ta":',
  '"beta":',
  '"dat',
  'v',
  'q',
  '"',
  ':',
  '{',
  '}',
  '1',
  '"1"',
  'true',
  ' ',
  '\\"seq":',
  'x',
  '"event_id":"e-1",',
];

function randomValue(next: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = Math.floor(next() * 12);
  for (let i = 0; i < n; i++) {
    if (next() < 0.15) parts.push(Buffer.from([Math.floor(next() * 256)]));
    else parts.push(Buffer.from(PIECES[Math.floor(next() * PIECES.length)]!));
  }
  return Buffer.concat(parts);
}

describe('convertedValue', () => {
  it('answers as a Buffer search per key does, on 200k random near-miss values', () => {
    const next = prng(14);
    let converted = 0;
    for (let i = 0; i < 200_000; i++) {
      const v = randomValue(next);
      // A view into a larger buffer, as consumed values are (bytes around it must not count).
      const padded = Buffer.concat([Buffer.from('"seq":x'), v, Buffer.from('"data":"')]);
      const view = padded.subarray(7, 7 + v.length);
      const want = reference(view);
      if (convertedValue(view) !== want) expect.fail(`differs on ${JSON.stringify(view.toString('latin1'))}`);
      if (want) converted++;
    }
    // Both answers occur often (the test can tell them apart).
    expect(converted).toBeGreaterThan(20_000);
    expect(converted).toBeLessThan(180_000);
  });

  it('finds the first occurrence of each key, also at the end of the value', () => {
    const cases: [string, boolean][] = [
      ['{"seq":1,"schema_version":1,"data":{}}', false],
      ['{"seq":"1"}', true],
      ['{"x":"seq","seq":1}', false],
      ['{"seqq":"1","seq":2}', false],
      ['{"seq":2,"x":{"seq":"1"}}', false],
      ['{"x":{"seq":"1"},"seq":2}', true],
      ['{"data":"text"}', true],
      ['{"schema_version":true}', true],
      ['"seq":', true],
      ['"data":', true],
      ['v', false],
      ['', false],
    ];
    for (const [text, want] of cases) {
      expect(convertedValue(Buffer.from(text)), text).toBe(want);
      expect(reference(Buffer.from(text)), text).toBe(want);
    }
  });

  it('takes the gateway spelling of the bench events as spliceable', () => {
    for (let i = 0; i < 500; i++)
      expect(convertedValue(Buffer.from(gatewayMessage('run', i).value))).toBe(false);
  });
});

describe('ingest handler intake', () => {
  /** The handler on fakes: six gateway messages, two rows per batch, ownership lost at the first flush. */
  async function intake() {
    const tracker = new OffsetTracker('events');
    let stale = false;
    let ownedCalls = 0;
    const inserted: number[] = [];
    const writer: EventWriter = {
      insert: async () => [],
      insertInput: async (values) => {
        stale = true; // e.g. a seek or a stop while the first batch is written
        inserted.push(values.length);
        return [];
      },
    };
    const handler = ingestHandler({
      producer: { connect: async () => {}, disconnect: async () => {}, send: async () => {} },
      writer,
      log: pino({ level: 'silent' }),
      metrics: createStageMetrics('ingester-test', new Registry()),
      settings: {
        dlqTopic: 'dlq',
        maxRows: 2,
        maxBytes: 1 << 30,
        intervalMs: 60_000,
        retry: { initialMs: 1, maxMs: 1 },
        insertMode: 'input',
      },
    })({ tracker, commit: async () => {}, fail: (err) => expect.fail(String(err)), failed: false });
    const taken: string[] = [];
    const messages = Array.from({ length: 6 }, (_, i) => {
      const g = gatewayMessage('run', i);
      return {
        key: Buffer.from(g.key),
        value: Buffer.from(g.value),
        offset: String(i),
        timestamp: '1700000000000',
        headers: { [VALIDATED_HEADER]: Buffer.from(String(g.headers[VALIDATED_HEADER])) },
      };
    });
    await handler.onBatch(
      { topic: 'events', partition: 0, highWatermark: '6', messages },
      {
        owned: () => {
          ownedCalls++;
          return !stale;
        },
        take: (offset, unit) => {
          taken.push(offset);
          tracker.take(0, offset, unit);
        },
        wait: (p) => p,
        heartbeat: async () => {},
      },
    );
    return { taken, ownedCalls, inserted };
  }

  it('takes nothing after a wait in which the partition stopped being owned, asking once per wait', async () => {
    const { taken, ownedCalls, inserted } = await intake();
    // Batch 1 (offsets 0, 1) is flushed; ownership is lost meanwhile, so 2.. are not taken.
    expect(taken).toEqual(['0', '1']);
    expect(inserted).toEqual([2]);
    // At the start and after the one wait: not once per message.
    expect(ownedCalls).toBe(2);
  });
});
