import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import type { Alert } from '../../../schemas/alert.js';
import { sendAcked } from '../../platform/kafka/producer.js';
import type { Logger } from '../../platform/logger.js';
import type { StageMetrics } from '../../platform/metrics.js';
import { toAlertRow } from './alert-rows.js';
import type { DetectorMetrics } from './metrics.js';
import { retryForever } from './retry.js';

// Alerts out: Kafka first (acks=all, keyed by task id, so one task's alerts stay in order),
// then the ClickHouse `alerts` table, both retried until they succeed. The order matters for
// restarts: the table is what a restarted detector consults to skip alerts it already
// published, so an alert must be in the table only once it is surely on the topic. A crash
// between the two puts the alert on the topic twice (same alert_id; the alerter dedupes),
// never zero times.

const STAGE = 'detector';
/** Alerts per produce request: well under the broker's 1 MiB default at a few KiB each. */
const KAFKA_CHUNK = 200;

export interface PublisherDeps {
  producer: Producer;
  clickhouse: ClickHouseClient;
  topic: string;
  metrics: StageMetrics;
  detectorMetrics: DetectorMetrics;
  log: Logger;
  /** True once a shutdown deadline means waiting longer is pointless. */
  giveUp?: () => boolean;
}

export class AlertPublisher {
  /**
   * alert_ids stored before a restart; replays of them are skipped. Only those: within one run
   * the engine raises an id once, and remembering every id would grow without bound.
   */
  private readonly published = new Set<string>();
  private readonly log: Logger;
  /** Replayed alerts skipped because they were already stored (for the shutdown log and tests). */
  suppressedCount = 0;

  constructor(private readonly deps: PublisherDeps) {
    this.log = deps.log.child({ component: 'publish' });
  }

  suppress(ids: Iterable<string>): void {
    for (const id of ids) this.published.add(id);
  }

  /** Publish durably; resolves once every new alert is on the topic and in the table. */
  async publish(alerts: readonly Alert[], heartbeat: () => Promise<void>): Promise<number> {
    const fresh: Alert[] = [];
    const seen = new Set<string>();
    for (const a of alerts) {
      if (this.published.has(a.alert_id) || seen.has(a.alert_id)) {
        this.suppressedCount++;
        this.deps.detectorMetrics.suppressed.inc();
        continue;
      }
      seen.add(a.alert_id);
      fresh.push(a);
    }
    if (fresh.length === 0) return 0;
    await this.toKafka(fresh, heartbeat);
    await this.toClickHouse(fresh, heartbeat);
    this.deps.metrics.sent.inc({ stage: STAGE }, fresh.length);
    for (const a of fresh) this.deps.detectorMetrics.alertsByRule.inc({ rule: a.rule_id });
    return fresh.length;
  }

  private async toKafka(alerts: Alert[], heartbeat: () => Promise<void>): Promise<void> {
    for (let i = 0; i < alerts.length; i += KAFKA_CHUNK) {
      const chunk = alerts.slice(i, i + KAFKA_CHUNK);
      const messages = chunk.map((a) => ({
        key: a.task_id,
        value: JSON.stringify(a),
        headers: { 'x-agenttrail-alert-id': a.alert_id, 'x-agenttrail-rule-id': a.rule_id },
      }));
      await retryForever(() => sendAcked(this.deps.producer, this.deps.topic, messages), {
        onError: (err, attempt, retryInMs) => {
          this.deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_KAFKA_UNAVAILABLE' });
          this.log.warn(
            { err: (err as Error).message, attempt, retryInMs },
            'alert produce failed; retrying',
          );
        },
        onWait: heartbeat,
        stop: this.deps.giveUp,
      });
    }
  }

  private async toClickHouse(alerts: Alert[], heartbeat: () => Promise<void>): Promise<void> {
    const rows = alerts.map(toAlertRow);
    // Same rows, same token: a retry after a timeout that did land is dropped by ClickHouse.
    const token = createHash('sha256')
      .update(alerts.map((a) => a.alert_id).join(','))
      .digest('hex');
    await retryForever(
      () =>
        this.deps.clickhouse.insert({
          table: 'alerts',
          values: rows,
          format: 'JSONEachRow',
          clickhouse_settings: { insert_deduplication_token: token, insert_deduplicate: 1, async_insert: 0 },
        }),
      {
        onError: (err, attempt, retryInMs) => {
          this.deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' });
          // Still retried, never dropped: a row ClickHouse refuses is a bug to fix, and the
          // batch's offsets stay uncommitted until it is stored.
          this.log[attempt >= 5 ? 'error' : 'warn'](
            { err: (err as Error).message, attempt, retryInMs },
            'alert insert failed; retrying',
          );
        },
        onWait: heartbeat,
        stop: this.deps.giveUp,
      },
    );
  }
}

/**
 * alert_ids stored at or after `sinceMs`: on restart, the alerts published between the snapshot
 * and the crash. Replaying those events raises the same ids, which are then not sent again.
 */
export async function storedAlertIdsSince(clickhouse: ClickHouseClient, sinceMs: number): Promise<string[]> {
  const rs = await clickhouse.query({
    query: 'SELECT DISTINCT alert_id FROM alerts WHERE created_at >= fromUnixTimestamp64Milli({since:Int64})',
    query_params: { since: sinceMs },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ alert_id: string }>()).map((r) => r.alert_id);
}
