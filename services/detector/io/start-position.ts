import { connectAdmin } from '../../platform/kafka/admin.js';
import type { KafkaClient } from '../../platform/kafka/client.js';
import type { Logger } from '../../platform/logger.js';

// Where the detector starts reading. The snapshot, not the group's committed offsets, decides:
// state and position must match. Committed offsets normally equal the snapshot's (they are
// committed right after it), but a crash between the snapshot write and the commit leaves them
// behind, and a lost or restored state directory leaves them ahead, which would skip events the
// state never saw. So at start the group's offsets are set from the snapshot (or to the topic's
// start/end when there is none) before the consumer joins.

export interface StartPositionOptions {
  kafka: KafkaClient;
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
  const admin = await connectAdmin(opts.kafka);
  try {
    const positions = new Map<number, bigint>();
    for (const w of await admin.watermarks(opts.topic)) {
      const fromSnapshot = opts.snapshotOffsets?.[String(w.partition)];
      let next: bigint;
      if (fromSnapshot !== undefined) next = BigInt(fromSnapshot);
      // A partition the snapshot does not know was added since: read it all.
      else if (opts.snapshotOffsets !== undefined) next = w.low;
      else next = opts.startFrom === 'earliest' ? w.low : w.high;
      if (next < w.low) {
        opts.log.error(
          { partition: w.partition, wanted: String(next), earliest: String(w.low) },
          'events the state has not seen were deleted by retention; continuing from the earliest kept',
        );
        next = w.low;
      }
      positions.set(w.partition, next);
    }
    await admin.setGroupOffsets({
      groupId: opts.groupId,
      topic: opts.topic,
      offsets: positions,
      timeoutMs: opts.timeoutMs,
      // A killed predecessor is still a member until its session times out.
      onWait: (err) => opts.log.info({ err: err.message }, 'waiting for the previous group member to expire'),
    });
    return positions;
  } finally {
    await admin.close();
  }
}
