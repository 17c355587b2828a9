import type { Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger.js';

// Where the detector starts reading. The snapshot, not the group's committed offsets, decides:
// state and position must match. Committed offsets normally equal the snapshot's (they are
// committed right after it), but a crash between the snapshot write and the commit leaves them
// behind, and a lost or restored state directory leaves them ahead, which would skip events the
// state never saw. So at start the group's offsets are set from the snapshot (or to the topic's
// start/end when there is none) before the consumer joins.

export interface StartPositionOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** partition → next offset, from the snapshot; undefined when starting without one. */
  snapshotOffsets: Record<string, string> | undefined;
  startFrom: 'earliest' | 'latest';
  log: Logger;
  /** Give up waiting for the group to empty after this long (a killed member expires on its session timeout). */
  timeoutMs: number;
}

/** Sets the group's offsets and returns them (partition → next offset) for every partition. */
export async function setStartPosition(opts: StartPositionOptions): Promise<Map<number, bigint>> {
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    const watermarks = await admin.fetchTopicOffsets(opts.topic);
    const positions = new Map<number, bigint>();
    for (const w of watermarks) {
      const low = BigInt(w.low);
      const fromSnapshot = opts.snapshotOffsets?.[String(w.partition)];
      let next: bigint;
      if (fromSnapshot !== undefined) next = BigInt(fromSnapshot);
      // A partition the snapshot does not know was added since: read it all.
      else if (opts.snapshotOffsets !== undefined) next = low;
      else next = opts.startFrom === 'earliest' ? low : BigInt(w.high);
      if (next < low) {
        opts.log.error(
          { partition: w.partition, wanted: String(next), earliest: String(low) },
          'events the state has not seen were deleted by retention; continuing from the earliest kept',
        );
        next = low;
      }
      positions.set(w.partition, next);
    }
    const partitions = [...positions].map(([partition, offset]) => ({ partition, offset: String(offset) }));
    const deadline = Date.now() + opts.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.setOffsets({ groupId: opts.groupId, topic: opts.topic, partitions });
        break;
      } catch (err) {
        // "The consumer group must have no running instances": a killed predecessor is still a
        // member until its session times out.
        if (Date.now() > deadline) throw err;
        if (attempt === 1)
          opts.log.info({ err: (err as Error).message }, 'waiting for the previous group member to expire');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    return positions;
  } finally {
    await admin.disconnect();
  }
}
