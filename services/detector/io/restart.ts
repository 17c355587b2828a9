import type { ClickHouseClient } from '@clickhouse/client';
import { ALL_TENANTS, AlertsRepository } from '../../platform/clickhouse/read/index.js';
import type { KafkaClient } from '../../platform/kafka/client.js';
import type { Logger } from '../../platform/logger.js';
import type { AlertPublisher } from './publish.js';
import { alertsOnTopicSince } from './recover.js';
import type { SnapshotStore, StoredSnapshot } from './snapshot-store.js';
import { setStartPosition } from './start-position.js';

// Restart recovery: how a detector (re)starts from its last snapshot, so that a crash at any
// point raises no alert twice and loses none (exactly-once alerting, consume.ts and publish.ts).
//  1. The snapshot is read before any client (`readSnapshot`); one of another topic is ignored.
//  2. The group's offsets are set to the snapshot's (start-position.ts): state and position match.
//  3. The alerts published since the snapshot (minus a margin) are read from the alerts topic
//     (recover.ts); those the crash left out of the table are stored now, and every one of them,
//     and every alert stored in the table since, is suppressed when the replay raises it again.

export interface RestartSettings {
  eventsTopic: string;
  alertsTopic: string;
  groupId: string;
  database: string;
  startFrom: 'earliest' | 'latest';
  sessionTimeoutMs: number;
  /** Alerts stored this long before the snapshot time are also suppressed. */
  suppressMarginMs: number;
}

/** The last snapshot of `topic`, or undefined (none, or one of another topic: start without it). */
export function readSnapshot(store: SnapshotStore, topic: string, log: Logger): StoredSnapshot | undefined {
  const stored = store.read();
  if (stored && stored.topic !== topic) {
    log.warn({ snapshotTopic: stored.topic }, 'snapshot is of another topic; starting without it');
    return undefined;
  }
  return stored;
}

/**
 * Set the group's start position from `stored` (or `startFrom` without one) and make the
 * publisher skip what was published since the snapshot; returns partition → next offset.
 */
export async function resumeFrom(
  stored: StoredSnapshot | undefined,
  deps: {
    kafka: KafkaClient;
    clickhouse: ClickHouseClient;
    publisher: AlertPublisher;
    log: Logger;
    settings: RestartSettings;
  },
): Promise<Map<number, bigint>> {
  const { kafka, clickhouse, publisher, log, settings } = deps;
  const positions = await setStartPosition({
    kafka,
    groupId: settings.groupId,
    topic: settings.eventsTopic,
    snapshotOffsets: stored?.offsets,
    startFrom: settings.startFrom,
    log,
    timeoutMs: settings.sessionTimeoutMs * 3,
  });
  log.info(
    {
      snapshot: stored ? new Date(stored.written_at_ms).toISOString() : null,
      tasks: stored?.detector.tasks.length ?? 0,
      positions: Object.fromEntries([...positions].map(([p, o]) => [p, String(o)])),
    },
    stored ? 'state restored from snapshot' : `no snapshot; starting from ${settings.startFrom}`,
  );
  if (!stored) return positions;

  // After setStartPosition: a killed predecessor has left the group by now, so its last
  // background insert is no longer in flight when the table is asked.
  const since = stored.written_at_ms - settings.suppressMarginMs;
  const onTopic = await alertsOnTopicSince({
    kafka,
    topic: settings.alertsTopic,
    sinceMs: since,
    groupPrefix: settings.groupId,
    log,
    timeoutMs: settings.sessionTimeoutMs * 6,
  });
  const alertsRead = new AlertsRepository({
    client: clickhouse,
    database: settings.database,
    caller: 'detector',
  });
  const inTable = await alertsRead.idsAmong(ALL_TENANTS, [...onTopic.keys()]);
  const missing = [...onTopic.values()].filter((a) => !inTable.has(a.alert_id));
  await publisher.storeRecovered(missing);
  const ids = await alertsRead.idsSince(ALL_TENANTS, since);
  publisher.suppress(ids);
  publisher.suppress(onTopic.keys());
  log.info(
    {
      on_topic: onTopic.size,
      stored_from_topic: missing.length,
      in_table: ids.length,
      since: new Date(since).toISOString(),
    },
    'alerts published since the snapshot will not be sent again',
  );
  return positions;
}
