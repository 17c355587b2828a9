import { randomUUID } from 'node:crypto';
import type { KafkaClient } from './client.js';
import type { StageMessage } from './runner.js';

// The few admin reads and writes a stage makes outside its consume loop: where a topic's
// partitions begin and end, setting a group's offsets before it joins (the detector's start
// from its snapshot), and reading offset ranges to their end (the detector's restart recovery
// from the alerts topic).

export interface Watermark {
  partition: number;
  /** The earliest offset still kept. */
  low: bigint;
  /** One past the last offset written. */
  high: bigint;
}

export interface TopicAdmin {
  watermarks(topic: string): Promise<Watermark[]>;
  /** Per partition, the first offset with a timestamp at or after `ms` (the end when none is). */
  offsetsAt(topic: string, ms: number): Promise<Map<number, bigint>>;
  /**
   * Set the group's committed offsets. Kafka refuses while the group has members, and a killed
   * predecessor stays one until its session times out: retried until `timeoutMs`.
   */
  setGroupOffsets(opts: {
    groupId: string;
    topic: string;
    offsets: Map<number, bigint>;
    timeoutMs: number;
    /** Told once when the first attempt is refused (the wait begins). */
    onWait?: (err: Error) => void;
  }): Promise<void>;
  close(): Promise<void>;
}

export async function connectAdmin(kafka: KafkaClient): Promise<TopicAdmin> {
  const admin = kafka.admin();
  await admin.connect();
  return {
    async watermarks(topic) {
      return (await admin.fetchTopicOffsets(topic)).map((w) => ({
        partition: w.partition,
        low: BigInt(w.low),
        high: BigInt(w.high),
      }));
    },
    async offsetsAt(topic, ms) {
      const at = await admin.fetchTopicOffsetsByTimestamp(topic, ms);
      return new Map(at.map((o) => [o.partition, BigInt(o.offset)]));
    },
    async setGroupOffsets({ groupId, topic, offsets, timeoutMs, onWait }) {
      const partitions = [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) }));
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.setOffsets({ groupId, topic, partitions });
          return;
        } catch (err) {
          // "The consumer group must have no running instances".
          if (Date.now() > deadline) throw err;
          if (attempt === 1) onWait?.(err as Error);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    },
    close: () => admin.disconnect(),
  };
}

/**
 * Read `ranges` (partition → [first, end) offsets) of `topic` to their end with a throwaway
 * consumer group (deleted afterwards), handing each message in range to `onMessage`.
 */
export async function readRanges(
  kafka: KafkaClient,
  opts: {
    topic: string;
    ranges: Map<number, [bigint, bigint]>;
    groupPrefix: string;
    timeoutMs: number;
    onMessage: (m: StageMessage, partition: number) => void;
  },
): Promise<void> {
  const { topic, ranges } = opts;
  if (ranges.size === 0) return;
  const groupId = `${opts.groupPrefix}.read.${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  const left = new Set(ranges.keys());
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < range[0]) continue;
          if (offset >= range[1]) break;
          opts.onMessage(m, batch.partition);
        }
        const last = BigInt(batch.lastOffset());
        if (last + 1n >= range[1] && left.delete(batch.partition) && left.size === 0) resolveDone();
      },
    });
    for (const [partition, [first]] of ranges) consumer.seek({ topic, partition, offset: String(first) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${topic} not read to its end in ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => admin.disconnect());
  }
}
