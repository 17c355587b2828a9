import { Alert } from '../../../schemas/alert.js';
import { connectAdmin, readRanges } from '../../platform/kafka/admin.js';
import type { KafkaClient } from '../../platform/kafka/client.js';
import { parseMessageJson } from '../../platform/kafka/event-message.js';
import type { Logger } from '../../platform/logger.js';

// Restart recovery, part of exactly-once alerting (publish.ts). Alerts are on the topic before
// they are in the table, and the table is written in the background, so after a crash the
// alerts published since the last snapshot can be on the topic and missing from the table.
// This reads the alerts topic from `sinceMs` (the snapshot time minus a margin) to its current
// end and returns every alert found, so the caller can store the missing rows and skip those
// ids when the replay raises them again.

export interface ReadAlertsOptions {
  kafka: KafkaClient;
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
  const admin = await connectAdmin(opts.kafka);
  /** partition → [first offset to read, end offset (exclusive)] */
  const ranges = new Map<number, [bigint, bigint]>();
  try {
    const [from, ends] = await Promise.all([
      admin.offsetsAt(opts.topic, opts.sinceMs),
      admin.watermarks(opts.topic),
    ]);
    for (const e of ends) {
      const start = from.get(e.partition) ?? e.low;
      const first = start < e.low ? e.low : start;
      if (first < e.high) ranges.set(e.partition, [first, e.high]);
    }
  } finally {
    await admin.close();
  }
  let invalid = 0;
  await readRanges(opts.kafka, {
    topic: opts.topic,
    ranges,
    groupPrefix: `${opts.groupPrefix}.recover`,
    timeoutMs: opts.timeoutMs,
    onMessage: (m) => {
      const json = parseMessageJson(m.value);
      const parsed = json.ok ? Alert.safeParse(json.json) : undefined;
      if (parsed?.success) found.set(parsed.data.alert_id, parsed.data);
      else invalid++;
    },
  });
  if (invalid > 0) opts.log.warn({ invalid }, 'unreadable messages on the alerts topic ignored');
  return found;
}
