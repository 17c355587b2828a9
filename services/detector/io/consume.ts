import type { Alert } from '../../../schemas/alert.js';
import type { BatchContext, HandlerFactory, StageBatch } from '../../platform/kafka/runner.js';
import type { Logger } from '../../platform/logger.js';
import type { StageMetrics } from '../../platform/metrics.js';
import type { Detector } from '../engine.js';
import { decodeEvent, passesSchema } from './decode.js';
import type { DetectorMetrics } from './metrics.js';
import type { AlertPublisher } from './publish.js';
import type { Serial } from './serial.js';
import type { SignalBuffer } from './signal-rows.js';
import type { SnapshotStore } from './snapshot-store.js';
import { TickClock } from './tick-clock.js';

// The detector's handler on the stage runner (platform/kafka/runner.ts). One Serial queue
// orders everything that touches the engine: Kafka batches, timer ticks, snapshots and rules
// swaps; nothing interleaves. Its durability point is the snapshot: every offset taken since
// the last one is in the current epoch's unit (platform/kafka/offsets.ts), done when the next
// snapshot is written.
//
// Per batch: decode each message (decode.ts: the gateway's mark spares the schema), feed valid events to the engine, then publish the
// batch's alerts to Kafka (acks=all) before the job ends; their ClickHouse rows are written in
// the background (publish.ts) so the loop does not wait on them. Every
// DETECTOR_SNAPSHOT_INTERVAL_MS the background rows are flushed (awaited), then the engine
// state and the next offset of each partition are written together (atomically), and only
// then are those offsets committed to Kafka. A snapshot therefore never contains state whose
// alerts are not both on the topic and in the table.
//
// After a crash the detector restarts from the snapshot and its offsets (start-position.ts);
// events after it are processed again against the same state and raise the same alert ids,
// which the publisher skips when they are already on the topic or in the table (restart.ts
// loads them at start and stores the rows the crash left unwritten).
//
// One instance per consumer group: credentials and baselines are cross-task state, so the
// engine must see every partition. Scale-out is by tenant (one group, topic or detector per
// tenant set), not by adding members; a second member would take partitions away and
// start-position.ts refuses to start while another member is in the group.

const STAGE = 'detector';
const noHeartbeat = async () => {};

export interface DetectorHandlerDeps {
  detector: Detector;
  publisher: AlertPublisher;
  /** The risk signals the detector records (its `onSignal`), stored by the publisher per batch. */
  signals?: SignalBuffer;
  store: SnapshotStore;
  serial: Serial;
  log: Logger;
  metrics: StageMetrics;
  detectorMetrics: DetectorMetrics;
  settings: {
    /** The events topic (what the snapshot says it is of). */
    topic: string;
    tickIntervalMs: number;
    snapshotIntervalMs: number;
  };
  /** partition → next offset the state has not seen (from start-position.ts). */
  positions: Map<number, bigint>;
}

/**
 * The detector's handler. Publishing that fails for good fails the stage (`StageControl.fail`:
 * the engine state is ahead of the published alerts, and main exits without a snapshot). Run
 * it with `keepRevoked`: the snapshot records every partition's position, owned or not.
 */
export function detectorHandler(deps: DetectorHandlerDeps): HandlerFactory {
  return (runner) => {
    const { detector, publisher, serial, metrics, settings } = deps;
    const log = deps.log.child({ component: 'consume' });
    const clock = new TickClock();
    let snapshotDirty = false;
    const gapWarned = new Set<number>();
    const { tracker } = runner;
    for (const [partition, next] of deps.positions) tracker.seed(partition, next);
    /** What the next snapshot makes durable. */
    let epoch = tracker.unit();

    /**
     * Publish or die: on failure the engine state is ahead of the published alerts. The risk
     * signals recorded since the last call go to the publisher's writer with them.
     */
    async function publish(alerts: Alert[], heartbeat: () => Promise<void>): Promise<void> {
      const signals = deps.signals?.take() ?? [];
      if (alerts.length === 0 && signals.length === 0) return;
      try {
        await publisher.storeSignals(signals);
        if (alerts.length > 0) await publisher.publish(alerts, heartbeat);
      } catch (err) {
        runner.fail(err);
        throw err;
      }
    }

    async function processBatch(batch: StageBatch, ctx: BatchContext): Promise<void> {
      if (runner.failed) return;
      const { partition } = batch;
      const started = performance.now();
      const alerts: Alert[] = [];
      let received = 0;
      for (const m of batch.messages) {
        if (!ctx.owned()) break;
        const offset = BigInt(m.offset);
        const next = tracker.nextOf(partition) ?? 0n;
        if (offset < next) {
          // Already folded into the restored state (commit lagged the snapshot): skip.
          ctx.take(m.offset);
          continue;
        }
        if (offset > next && !gapWarned.has(partition)) {
          gapWarned.add(partition);
          log.warn({ partition, expected: String(next), got: m.offset }, 'offsets skipped');
        }
        received++;
        const d = decodeEvent(m);
        if (d.ok) {
          let raised: Alert[] | undefined;
          try {
            raised = detector.process(d.event, d.hashCheck);
          } catch (err) {
            // An event taken on the gateway's mark that the schema rejects is poison (the
            // ingester dead-letters it); one the schema accepts is a defect here: fail loudly.
            if (!d.trusted || passesSchema(d.event)) throw err;
            metrics.dropped.inc({ stage: STAGE, reason: 'schema' });
            log.warn(
              { err: (err as Error).message, offset: m.offset },
              'a gateway-marked event fails the schema',
            );
          }
          if (raised !== undefined) for (const a of raised) alerts.push(a);
          clock.observe(Date.parse(d.event.occurred_at));
        } else {
          // The ingester dead-letters the same message from the same topic; counting is enough here.
          metrics.dropped.inc({ stage: STAGE, reason: d.reason });
        }
        ctx.take(m.offset, epoch);
      }
      if (received === 0) return;
      snapshotDirty = true;
      metrics.received.inc({ stage: STAGE }, received);
      await publish(alerts, ctx.heartbeat);
      metrics.batchSize.observe({ stage: STAGE }, received);
      const seconds = (performance.now() - started) / 1000;
      metrics.batchSeconds.observe({ stage: STAGE }, seconds);
      if (seconds > 10) log.warn({ events: received, alerts: alerts.length, seconds }, 'slow batch');
    }

    async function tick(): Promise<void> {
      const now = clock.now();
      if (now === undefined || runner.failed) return;
      const alerts = detector.tick(now);
      if (alerts.length > 0) snapshotDirty = true;
      await publish(alerts, noHeartbeat);
    }

    /** Snapshot state + positions atomically, then commit exactly those positions. */
    async function snapshot(force: boolean): Promise<void> {
      if (runner.failed || (!snapshotDirty && !force)) return;
      // Every alert the state has raised must be stored before a position past it is trusted.
      await publisher.flushStored();
      const offsets: Record<string, string> = {};
      for (const [p, o] of tracker.positions()) offsets[String(p)] = String(o);
      const writtenAt = Date.now();
      const bytes = deps.store.write(
        { version: 1, written_at_ms: writtenAt, topic: settings.topic, offsets },
        detector.snapshotJson(),
      );
      snapshotDirty = false;
      // The durability point: what the snapshot holds may be committed.
      epoch.done();
      epoch = tracker.unit();
      deps.detectorMetrics.recordSnapshot(bytes);
      log.debug({ bytes, ms: Date.now() - writtenAt }, 'snapshot written');
      // A failed commit is logged by the runner: the snapshot is what a restart trusts, and a
      // missed commit only makes the lag metric stale.
      await runner.commit();
    }

    return {
      onAssign({ partitions }) {
        if (partitions.length < deps.positions.size)
          log.error(
            { assigned: partitions.length, partitions: deps.positions.size },
            'this instance does not own every partition: run one detector per consumer group',
          );
      },
      onBatch: (batch, ctx) => ctx.wait(serial.run(() => processBatch(batch, ctx))),
      async drain() {
        await serial.idle();
        await serial.run(() => snapshot(true));
        log.info('consumer stopped; state snapshotted and offsets committed');
      },
      timers: [
        { what: 'tick', everyMs: settings.tickIntervalMs, run: () => serial.run(tick) },
        {
          what: 'snapshot',
          everyMs: settings.snapshotIntervalMs,
          run: () => serial.run(() => snapshot(false)),
        },
      ],
    };
  };
}
