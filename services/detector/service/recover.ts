import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { Alert } from '../../../schemas/alert.js';
import type { Logger } from '../../platform/logger.js';

// Restart recovery, part of exactly-once alerting (publish.ts). Alerts are on the topic before
// they are in the table, and the table is written in the background, so after a crash the
// alerts published since the last snapshot can be on the topic and missing from the table.
// This reads the alerts topic from `sinceMs` (the snapshot time minus a margin) to its current
// end and returns every alert found, so the caller can store the missing rows and skip those
// ids when the replay raises them again.

export interface ReadAlertsOptions {
  kafka: Kafka;
  topic: string;
  sinceMs: number;
  /** Name prefix of the throwaway consumer group (deleted afterwards). */
  groupPrefix: string;
  log: Logger;
  timeoutMs: number;
}

/** Alerts on `topic` with a timestamp at or after `sinceMs`, by alert_id. */
export async function alertsOnTopicSince(opts: ReadAlertsOptions): Promise<Map<string, Alert>> {
  const found = new Map<string, Alert>();
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const [from, ends] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(opts.topic, opts.sinceMs),
      admin.fetchTopicOffsets(opts.topic),
    ]);
    /** partition → [first offset to read, end offset (exclusive)] */
    const ranges = new Map<number, [bigint, bigint]>();
    for (const e of ends) {
      const start = BigInt(from.find((f) => f.partition === e.partition)?.offset ?? e.low);
      const low = BigInt(e.low);
      const high = BigInt(e.high);
      const first = start < low ? low : start;
      if (first < high) ranges.set(e.partition, [first, high]);
    }
    if (ranges.size === 0) return found;

    const groupId = `${opts.groupPrefix}.recover.${randomUUID()}`;
    const consumer = opts.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    const left = new Set(ranges.keys());
    let invalid = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const range = ranges.get(batch.partition);
          if (!range) return;
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset < range[0]) continue;
            if (offset >= range[1]) break;
            let parsed: ReturnType<typeof Alert.safeParse> | undefined;
            try {
              parsed = Alert.safeParse(JSON.parse(m.value?.toString('utf8') ?? ''));
            } catch {
              parsed = undefined;
            }
            if (parsed?.success) found.set(parsed.data.alert_id, parsed.data);
            else invalid++;
          }
          const last = BigInt(batch.lastOffset());
          if (last + 1n >= range[1] && left.delete(batch.partition) && left.size === 0) resolveDone();
        },
      });
      for (const [partition, [first]] of ranges)
        consumer.seek({ topic: opts.topic, partition, offset: String(first) });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`alerts topic not read to its end in ${opts.timeoutMs} ms`)),
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
      await admin.deleteGroups([groupId]).catch(() => {});
    }
    if (invalid > 0) opts.log.warn({ invalid }, 'unreadable messages on the alerts topic ignored');
    return found;
  } finally {
    await admin.disconnect();
  }
}
