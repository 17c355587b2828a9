import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Alert } from '../../../schemas/alert.js';
import { insertIsolatingRefused, isDataError } from '../../platform/clickhouse/refused-rows.js';
import { type DeadLetter, sendDeadLetters } from '../../platform/kafka/dead-letter.js';
import type { StageProducer } from '../../platform/kafka/producer.js';
import type { Logger } from '../../platform/logger.js';
import type { StageMetrics } from '../../platform/metrics.js';
import type { WriteHealth } from '../../platform/write-health.js';
import type { TaskSignal } from '../baselines/risk.js';
import { toAlertRow } from './alert-rows.js';
import type { DetectorMetrics } from './metrics.js';
import { retryForever } from './retry.js';
import { riskSignalKey, toRiskSignalRow } from './signal-rows.js';

// Alerts out: Kafka first (acks=all, keyed by task id, so one task's alerts stay in order),
// awaited, because the topic is the source of truth and the alerter pages from it. The
// ClickHouse `alerts` rows are written by a background writer that never blocks the consume
// loop; the loop awaits `flushStored()` before every snapshot and offset commit, so a committed
// position still implies that every alert raised before it is stored.
//
// After a crash, the alerts published since the snapshot may be on the topic without being in
// the table yet. The restarted detector therefore reads the topic from the snapshot time on
// (recover.ts), stores the ones the table misses, and skips every id found on the topic or in
// the table when the replay raises it again: nothing is sent or stored twice, nothing is lost.
//
// A row ClickHouse refuses as data (platform/clickhouse/refused-rows.ts) is isolated and goes
// to the dead-letter topic with ClickHouse's code; the alert itself is on the alerts topic and
// was paged. Retrying it would hold every later alert row, snapshot and commit for ever.
//
// The same writer stores the risk signals the engine records (`risk_signals`, for the timeline):
// no Kafka, the table is their only home, and `flushStored()` covers them too, so a snapshot
// never passes an unstored signal. A replay records a signal again under the same key.

const STAGE = 'detector';
/** Alerts per produce request: well under the broker's 1 MiB default at a few KiB each. */
const KAFKA_CHUNK = 200;
/** Rows per background insert. */
const INSERT_CHUNK = 2_000;
/** Unstored rows above which `publish` waits for the writer (ClickHouse slow or down). */
const MAX_UNSTORED = 20_000;
const noHeartbeat = async () => {};

/** What the writer stores: a table, an item's row and its id (dedup token, dead-letter offset). */
interface StoredKind<T> {
  table: string;
  /** Names a refused row in its dead letter's reason. */
  what: string;
  row: (item: T) => unknown;
  id: (item: T) => string;
}

const ALERT_ROWS: StoredKind<Alert> = {
  table: 'alerts',
  what: 'alert row',
  row: toAlertRow,
  id: (a) => a.alert_id,
};
const SIGNAL_ROWS: StoredKind<TaskSignal> = {
  table: 'risk_signals',
  what: 'risk signal row',
  row: toRiskSignalRow,
  id: riskSignalKey,
};

export interface PublisherDeps {
  producer: StageProducer;
  clickhouse: ClickHouseClient;
  topic: string;
  /** Where alert rows ClickHouse refuses go (the events DLQ; headers say what and why). */
  dlqTopic: string;
  metrics: StageMetrics;
  health?: WriteHealth;
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
  /** Published to Kafka, not yet handed to an insert. */
  private unstored: Alert[] = [];
  /** Risk signals recorded, not yet handed to an insert. */
  private unstoredSignals: TaskSignal[] = [];
  /** The running background insert loop, if any. */
  private writing: Promise<void> | undefined;
  /** Set once the writer gave up (shutdown deadline): no further snapshot may claim its rows. */
  private writeFailure: unknown;

  constructor(private readonly deps: PublisherDeps) {
    this.log = deps.log.child({ component: 'publish' });
  }

  suppress(ids: Iterable<string>): void {
    for (const id of ids) this.published.add(id);
  }

  /**
   * Publish; resolves once every new alert is on the topic. Rows go to the table in the
   * background: await `flushStored()` before anything (snapshot, commit) that relies on them.
   */
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
    for (const a of fresh) this.unstored.push(a);
    this.startWriter();
    if (this.unstored.length > MAX_UNSTORED) await this.flushStored();
    this.deps.metrics.sent.inc({ stage: STAGE }, fresh.length);
    for (const a of fresh) this.deps.detectorMetrics.alertsByRule.inc({ rule: a.rule_id });
    return fresh.length;
  }

  /**
   * Store risk signals in the background (no Kafka: the table is their record); waits for the
   * writer only when too many are unstored.
   */
  async storeSignals(signals: readonly TaskSignal[]): Promise<void> {
    if (signals.length === 0) return;
    for (const s of signals) this.unstoredSignals.push(s);
    this.startWriter();
    if (this.unstoredSignals.length > MAX_UNSTORED) await this.flushStored();
  }

  private pending(): boolean {
    return this.unstored.length > 0 || this.unstoredSignals.length > 0;
  }

  /** Resolves once every alert published and signal handed over so far is in its table; rejects if the writer gave up. */
  async flushStored(): Promise<void> {
    while (this.writing || this.pending()) {
      if (this.writeFailure) throw this.writeFailure;
      this.startWriter();
      await this.writing;
    }
    if (this.writeFailure) throw this.writeFailure;
  }

  private startWriter(): void {
    if (this.writing || this.writeFailure || !this.pending()) return;
    this.writing = (async () => {
      while (this.pending()) {
        const alerts = this.unstored.splice(0, INSERT_CHUNK);
        const signals = this.unstoredSignals.splice(0, INSERT_CHUNK);
        try {
          if (alerts.length > 0) await this.store(ALERT_ROWS, alerts);
          if (signals.length > 0) await this.store(SIGNAL_ROWS, signals);
        } catch (err) {
          // Only when giving up at shutdown: keep the rows unstored and fail every later flush,
          // so no snapshot is written past them (a restart recovers alerts from the topic and
          // records the signals again by replaying the events).
          this.unstored = alerts.concat(this.unstored);
          this.unstoredSignals = signals.concat(this.unstoredSignals);
          this.writeFailure = err;
          this.log.error(
            { err: (err as Error).message, rows: this.unstored.length, signals: this.unstoredSignals.length },
            'alert rows not stored',
          );
          return;
        }
      }
    })().finally(() => {
      this.writing = undefined;
    });
  }

  private async toKafka(alerts: Alert[], heartbeat: () => Promise<void>): Promise<void> {
    for (let i = 0; i < alerts.length; i += KAFKA_CHUNK) {
      const chunk = alerts.slice(i, i + KAFKA_CHUNK);
      const messages = chunk.map((a) => ({
        key: a.task_id,
        value: JSON.stringify(a),
        headers: { 'x-agenttrail-alert-id': a.alert_id, 'x-agenttrail-rule-id': a.rule_id },
      }));
      await retryForever(() => this.kafkaWrite(() => this.deps.producer.send(this.deps.topic, messages)), {
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

  /** Insert rows for alerts already on the topic (recover.ts), chunked, retried like the writer. */
  async storeRecovered(alerts: readonly Alert[]): Promise<void> {
    for (let i = 0; i < alerts.length; i += INSERT_CHUNK)
      await this.store(ALERT_ROWS, alerts.slice(i, i + INSERT_CHUNK));
  }

  private async kafkaWrite(op: () => Promise<void>): Promise<void> {
    try {
      await op();
      this.deps.health?.succeeded('kafka');
    } catch (err) {
      this.deps.health?.failed('kafka', err);
      throw err;
    }
  }

  /**
   * Insert `items` as rows of `kind.table`, retried until stored; rows ClickHouse refuses as data
   * go to the dead-letter topic with the item itself, and the rest is stored.
   */
  private async store<T extends { task_id: string }>(
    kind: StoredKind<T>,
    items: readonly T[],
  ): Promise<void> {
    const table = kind.table;
    const rows = items.map(kind.row);
    const ids = items.map(kind.id);
    // Same rows, same token: a retry after a timeout that did land is dropped by ClickHouse.
    const token = createHash('sha256').update(ids.join(',')).digest('hex');
    const refused = await insertIsolatingRefused(rows, token, (part, partToken) =>
      retryForever(() => this.insertRows(table, part, partToken), {
        onError: (err, attempt, retryInMs) => {
          this.deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' });
          // Retried, never dropped: no snapshot or offset commit happens until it is stored.
          this.log[attempt >= 5 ? 'error' : 'warn'](
            { err: (err as Error).message, attempt, retryInMs, table },
            `${table} insert failed; retrying`,
          );
        },
        onWait: noHeartbeat,
        stop: this.deps.giveUp,
        permanent: isDataError,
      }),
    );
    if (refused.length === 0) return;
    const letters: DeadLetter[] = refused.map((r) => {
      const item = items[r.index]!;
      this.deps.metrics.dropped.inc({ stage: STAGE, reason: 'clickhouse_rejected' });
      this.deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_REJECTED' });
      return {
        value: Buffer.from(JSON.stringify(item)),
        key: Buffer.from(item.task_id),
        reason: `${kind.what}: ${r.reason}`,
        code: 'AT_ERR_CLICKHOUSE_REJECTED',
        clickhouseCode: r.clickhouseCode,
        source: { topic: this.deps.topic, partition: -1, offset: ids[r.index]! },
      };
    });
    this.log.error(
      { table, rows: refused.length, codes: [...new Set(refused.map((r) => r.clickhouseCode))] },
      'ClickHouse refused rows as data; sent to the DLQ, the rest stored',
    );
    await retryForever(
      () => this.kafkaWrite(() => sendDeadLetters(this.deps.producer, this.deps.dlqTopic, letters)),
      {
        onError: (err, attempt, retryInMs) => {
          this.deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_KAFKA_UNAVAILABLE' });
          this.log.warn({ err: (err as Error).message, attempt, retryInMs }, 'DLQ produce failed; retrying');
        },
        onWait: noHeartbeat,
        stop: this.deps.giveUp,
      },
    );
  }

  private async insertRows(table: string, rows: readonly unknown[], token: string): Promise<void> {
    try {
      await this.deps.clickhouse.insert({
        table,
        values: rows as unknown[],
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: token, insert_deduplicate: 1, async_insert: 0 },
      });
      this.deps.health?.succeeded('clickhouse');
    } catch (err) {
      // ClickHouse answering that the data is bad means it is up.
      if (isDataError(err)) this.deps.health?.succeeded('clickhouse');
      else this.deps.health?.failed('clickhouse', err);
      throw err;
    }
  }
}
