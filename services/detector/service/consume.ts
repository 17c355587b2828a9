import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Alert } from '../../../schemas/alert.js';
import { type ConsumerLoop, type Heartbeat, noHeartbeat } from '../../platform/kafka/consumer-loop.js';
import type { Logger } from '../../platform/logger.js';
import type { StageMetrics } from '../../platform/metrics.js';
import type { Detector } from '../engine.js';
import { decodeEvent, passesSchema } from './decode.js';
import type { DetectorMetrics } from './metrics.js';
import type { AlertPublisher } from './publish.js';
import type { Serial } from './serial.js';
import type { SnapshotStore } from './snapshot-store.js';
import { TickClock } from './tick-clock.js';

// The detector's consumer loop. One Serial queue orders everything that touches the engine:
// Kafka batches, timer ticks, snapshots and rules swaps; nothing interleaves.
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
// which the publisher skips when they are already on the topic or in the table (main.ts and
// recover.ts load them at start and store the rows the crash left unwritten).
//
// One instance per consumer group: credentials and baselines are cross-task state, so the
// engine must see every partition. Scale-out is by tenant (one group, topic or detector per
// tenant set), not by adding members; a second member would take partitions away and
// start-position.ts refuses to start while another member is in the group.

const STAGE = 'detector';

export interface DetectorLoopDeps {
  kafka: Kafka;
  detector: Detector;
  publisher: AlertPublisher;
  store: SnapshotStore;
  serial: Serial;
  log: Logger;
  metrics: StageMetrics;
  detectorMetrics: DetectorMetrics;
  settings: {
    topic: string;
    groupId: string;
    sessionTimeoutMs: number;
    tickIntervalMs: number;
    snapshotIntervalMs: number;
  };
  /** partition → next offset the state has not seen (from start-position.ts). */
  positions: Map<number, bigint>;
  /** Publishing failed for good: state is ahead of what was published; the process must exit. */
  onFatal(err: unknown): void;
}

/** Stop: stop intake, finish the batch, snapshot, commit, leave the group. */
export type DetectorLoop = ConsumerLoop;

export function createDetectorLoop(deps: DetectorLoopDeps): DetectorLoop {
  const { detector, publisher, serial, metrics, settings, positions } = deps;
  const log = deps.log.child({ component: 'consume' });
  const clock = new TickClock();
  const consumer: Consumer = deps.kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(settings.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 250,
    allowAutoTopicCreation: false,
  });
  let stopping = false;
  let failed: unknown;
  let lastHeartbeat = Date.now();
  let snapshotDirty = false;
  const timers: NodeJS.Timeout[] = [];
  const gapWarned = new Set<number>();

  consumer.on(consumer.events.HEARTBEAT, () => {
    lastHeartbeat = Date.now();
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    lastHeartbeat = Date.now();
    const mine = (e.payload.memberAssignment[settings.topic] ?? []).length;
    if (mine < positions.size)
      log.error(
        { assigned: mine, partitions: positions.size },
        'this instance does not own every partition: run one detector per consumer group',
      );
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error, restart: e.payload.restart }, 'Kafka consumer crashed');
  });

  function fail(err: unknown): void {
    if (failed) return;
    failed = err;
    deps.onFatal(err);
  }

  /** Publish or die: on failure the engine state is ahead of the published alerts. */
  async function publish(alerts: Alert[], heartbeat: Heartbeat): Promise<void> {
    if (alerts.length === 0) return;
    try {
      await publisher.publish(alerts, heartbeat);
    } catch (err) {
      fail(err);
      throw err;
    }
  }

  async function processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (failed) return;
    const started = performance.now();
    const alerts: Alert[] = [];
    let received = 0;
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) break;
      const offset = BigInt(m.offset);
      const next = positions.get(batch.partition) ?? 0n;
      if (offset < next) {
        // Already folded into the restored state (commit lagged the snapshot): skip.
        resolveOffset(m.offset);
        continue;
      }
      if (offset > next && !gapWarned.has(batch.partition)) {
        gapWarned.add(batch.partition);
        log.warn({ partition: batch.partition, expected: String(next), got: m.offset }, 'offsets skipped');
      }
      received++;
      const d = decodeEvent(m);
      if ('event' in d) {
        let raised: Alert[] | undefined;
        try {
          raised = detector.process(d.event, d.hashCheck);
        } catch (err) {
          // An event taken on the gateway's mark that the schema rejects is poison (the
          // ingester dead-letters it); one the schema accepts is a defect here: fail loudly.
          if (!d.trusted || passesSchema(d.event)) throw err;
          metrics.dropped.inc({ stage: STAGE, reason: 'invalid_event' });
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
      positions.set(batch.partition, offset + 1n);
      resolveOffset(m.offset);
    }
    if (received === 0) return;
    snapshotDirty = true;
    metrics.received.inc({ stage: STAGE }, received);
    await publish(alerts, heartbeat);
    metrics.batchSize.observe({ stage: STAGE }, received);
    const seconds = (performance.now() - started) / 1000;
    metrics.batchSeconds.observe({ stage: STAGE }, seconds);
    if (seconds > 10) log.warn({ events: received, alerts: alerts.length, seconds }, 'slow batch');
  }

  async function tick(): Promise<void> {
    const now = clock.now();
    if (now === undefined || failed) return;
    const alerts = detector.tick(now);
    if (alerts.length > 0) snapshotDirty = true;
    await publish(alerts, noHeartbeat);
  }

  /** Snapshot state + positions atomically, then commit exactly those positions. */
  async function snapshot(force: boolean): Promise<void> {
    if (failed || (!snapshotDirty && !force)) return;
    // Every alert the state has raised must be stored before a position past it is trusted.
    await publisher.flushStored();
    const offsets: Record<string, string> = {};
    for (const [p, o] of positions) offsets[String(p)] = String(o);
    const writtenAt = Date.now();
    const bytes = deps.store.write(
      { version: 1, written_at_ms: writtenAt, topic: settings.topic, offsets },
      detector.snapshotJson(),
    );
    snapshotDirty = false;
    deps.detectorMetrics.recordSnapshot(bytes);
    log.debug({ bytes, ms: Date.now() - writtenAt }, 'snapshot written');
    try {
      await consumer.commitOffsets(
        [...positions].map(([partition, o]) => ({ topic: settings.topic, partition, offset: String(o) })),
      );
    } catch (err) {
      // The snapshot is what a restart trusts; a missed commit only makes the lag metric stale.
      log.warn({ err: (err as Error).message }, 'offset commit failed after the snapshot');
    }
  }

  /** Wait for `p`, heartbeating meanwhile so the group keeps this member. */
  async function heartbeating<T>(p: Promise<T>, heartbeat: Heartbeat): Promise<T> {
    let done = false;
    const settled = p.finally(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([settled.catch(() => {}), sleep(2_000)]);
      if (!done) await heartbeat().catch(() => {});
    }
    return settled;
  }

  function every(ms: number, job: () => Promise<void>, what: string): void {
    const t = setInterval(() => {
      if (stopping || failed) return;
      serial.run(job).catch((err) => {
        if (!failed) log.error({ err }, `${what} failed`);
      });
    }, ms);
    timers.push(t);
  }

  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          await heartbeating(
            serial.run(() => processBatch(payload)),
            payload.heartbeat,
          );
          await payload.heartbeat().catch(() => {});
        },
      });
      every(settings.tickIntervalMs, tick, 'tick');
      every(settings.snapshotIntervalMs, () => snapshot(false), 'snapshot');
      log.info({ topic: settings.topic, group: settings.groupId }, 'consuming');
    },
    async stop() {
      stopping = true;
      for (const t of timers) clearInterval(t);
      consumer.pause([{ topic: settings.topic }]);
      await serial.idle();
      await serial.run(() => snapshot(true));
      await consumer.disconnect();
      log.info('consumer stopped; state snapshotted and offsets committed');
    },
    healthy() {
      return !failed && !stopping && Date.now() - lastHeartbeat < settings.sessionTimeoutMs;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
