import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyedPartitioner, murmur2 } from './partitioner.js';

const meta = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('keyedPartitioner', () => {
  it("gives every key the partition kafkajs' default partitioner gives it", () => {
    const ours = keyedPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: Array<string | Buffer> = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'task-1',
      'ünïcødé-タスク',
      '\u0000\uffff',
    ];
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(i % 97);
      keys.push(i % 2 === 0 ? b : b.toString('base64'));
    }
    let compared = 0;
    for (const n of [1, 2, 3, 6, 7, 12, 64]) {
      const partitionMetadata = meta(n, n > 2 ? [1] : []);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args), `key ${JSON.stringify(key.toString())} of ${n}`).toBe(theirs(args));
        compared++;
      }
    }
    expect(compared).toBe(7 * keys.length);
  });

  it('keeps an explicit partition, and spreads keyless messages over partitions with a leader', () => {
    const p = keyedPartitioner();
    const partitionMetadata = meta(4, [2]);
    expect(p({ topic: 't', partitionMetadata, message: { partition: 3, key: 'k', value: 'v' } })).toBe(3);
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) seen.add(p({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });

  it('murmur2 matches the Java client on known inputs', () => {
    // Values from Apache Kafka's UtilsTest.testMurmur2.
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [s, v] of cases) expect(murmur2(Buffer.from(s)), s).toBe(v);
  });
});
