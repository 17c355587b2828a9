import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Alert } from '../../schemas/alert.js';
import { AlertStatusMessage, type AlertStatusRecord } from '../../schemas/alert-status.js';
import { sendDeadLetters } from '../platform/kafka/dead-letter.js';
import type { StageProducer } from '../platform/kafka/producer.js';
import type { Logger } from '../platform/logger.js';
import type { StageMetrics } from '../platform/metrics.js';
import type { Deliverer } from './deliver.js';
import { type DeliveryStore, type PriorDeliveries, pairKey } from './delivery-log.js';
import { OffsetTracker } from './offsets.js';
import { type Routing, route } from './routes.js';

// The alerts-topic loop. Exactly-once paging across restarts rests on two rules:
//  1. An offset is committed only once every delivery of its alert is final and its final
//     row is in the delivery log (OffsetTracker + Deliverer's `done`). A crash therefore
//     replays every alert not finished: nothing undelivered is lost.
//  2. Before an alert that may have been seen before is routed, the delivery log is asked
//     which (alert, destination) pairs are already final; those are skipped. A replay
//     therefore never pages again what was delivered before the crash, even if its offset had
//     not been committed yet. "May have been seen before" means: below the partition's high
//     watermark when this member was assigned it (no process, this one or another, can have
//     fetched an offset that did not exist yet), or below anything this process already took
//     in from it (a refetch). Alerts past both are new, and skip the query: it costs tens of
//     milliseconds on every batch otherwise.
// The remaining window is a crash between a receiver's 2xx and the log write (milliseconds):
// that page is sent again with the same `X-AgentTrail-Delivery` id (and PagerDuty's
// dedup_key), so receivers can drop it.
//
// The same loop follows the status topic (acknowledge/resolve records, `decodeStatus`), keyed by
// status_id instead of alert_id. There every message is checked against the log (`checkAll`):
// the API may produce one record twice (a client retry after a failed store), and such records
// are rare enough for the query.

/** A message, decoded: the alert to route and, for a status follow-up, the change to report. */
export interface Decoded {
  alert: Alert;
  change?: AlertStatusRecord;
}
export type Decoder = (json: unknown) => { success: true; data: Decoded } | { success: false; error: string };

const issues = (e: { issues: Array<{ path: PropertyKey[]; message: string }> }) =>
  e.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');

/** The alerts topic: each message an Alert. */
export const decodeAlert: Decoder = (json) => {
  const r = Alert.safeParse(json);
  return r.success ? { success: true, data: { alert: r.data } } : { success: false, error: issues(r.error) };
};

/** The status topic: each message an AlertStatusMessage (the record plus its alert). */
export const decodeStatus: Decoder = (json) => {
  const r = AlertStatusMessage.safeParse(json);
  if (!r.success) return { success: false, error: issues(r.error) };
  const { alert, ...change } = r.data;
  return { success: true, data: { alert, change } };
};

/** The delivery log's key of a decoded message: its status_id or alert_id. */
const recordId = (d: Decoded) => d.change?.status_id ?? d.alert.alert_id;

export interface ConsumeDeps {
  kafka: Kafka;
  producer: StageProducer;
  topic: string;
  dlqTopic: string;
  groupId: string;
  sessionTimeoutMs: number;
  fromBeginning: boolean;
  routing: Routing;
  deliverer: Deliverer;
  store: DeliveryStore;
  metrics: StageMetrics;
  logger: Logger;
  commitIntervalMs: number;
  maxInFlight: number;
  /** How a message becomes something to page; default: an Alert (the alerts topic). */
  decode?: Decoder;
  /** Ask the delivery log about every message, not only possible replays (the status topic). */
  checkAll?: boolean;
}

export interface AlertConsumer {
  /** Stop fetching (shutdown step 1); in-flight deliveries continue. */
  pause(): void;
  /** Commit every offset that is final now. */
  commit(): Promise<void>;
  disconnect(): Promise<void>;
  healthy(): boolean;
}

const STAGE = 'alerter';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startAlertConsumer(deps: ConsumeDeps): Promise<AlertConsumer> {
  const log = deps.logger.child({ component: 'consume' });
  const tracker = new OffsetTracker();
  const consumer: Consumer = deps.kafka.consumer({
    groupId: deps.groupId,
    sessionTimeout: deps.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(deps.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 250,
  });
  let lastHeartbeat = Date.now();
  let crashed = false;
  consumer.on(consumer.events.HEARTBEAT, () => {
    lastHeartbeat = Date.now();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = !e.payload.restart;
    log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
  });
  /**
   * partition → offsets below this may have been paged already and are checked against the
   * delivery log; at and past it they are new. Absent: not known yet (see `replayBoundary`).
   */
  const checkBelow = new Map<number, bigint>();
  let boundaries: Promise<void> = Promise.resolve();
  const admin = deps.kafka.admin();
  const raise = (partition: number, offset: bigint) => {
    const was = checkBelow.get(partition);
    if (was === undefined || offset > was) checkBelow.set(partition, offset);
  };
  /** High watermarks of the assigned partitions, fetched when the assignment is made. */
  async function fetchBoundaries(partitions: number[]): Promise<void> {
    try {
      const ends = await admin.fetchTopicOffsets(deps.topic);
      for (const e of ends) if (partitions.includes(e.partition)) raise(e.partition, BigInt(e.high));
    } catch (err) {
      // The first batch's high watermark (later, so at least as high) stands in: see eachBatch.
      log.warn({ err }, 'could not read the partition ends at assignment; using the first fetch');
    }
  }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    lastHeartbeat = Date.now();
    const assigned = e.payload.memberAssignment[deps.topic] ?? [];
    tracker.retain(new Set(assigned));
    // Emitted before the first fetch of the new generation; eachBatch awaits it.
    for (const p of [...checkBelow.keys()]) if (!assigned.includes(p)) checkBelow.delete(p);
    boundaries = fetchBoundaries(assigned);
  });

  async function prior(ids: string[]): Promise<PriorDeliveries> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.store.prior(ids);
      } catch (err) {
        deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' });
        if (attempt >= 3) {
          // A missed page is worse than a duplicate: page without the check, and say so.
          log.warn({ err, alerts: ids.length }, 'delivery log unreachable; paging without the replay check');
          return { final: new Set(), attempts: new Map() };
        }
        await sleep(200 * attempt);
      }
    }
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const started = performance.now();
    const parsed: Array<{ offset: string; item: Decoded }> = [];
    const poison: Parameters<typeof sendDeadLetters>[2] = [];
    const decode = deps.decode ?? decodeAlert;
    for (const m of batch.messages) {
      let result: ReturnType<Decoder> | undefined;
      try {
        result = decode(JSON.parse(m.value?.toString('utf8') ?? ''));
      } catch {
        result = undefined;
      }
      if (result?.success) parsed.push({ offset: m.offset, item: result.data });
      else {
        poison.push({
          value: m.value,
          key: m.key,
          reason: result ? result.error : 'not JSON',
          code: 'AT_ERR_MESSAGE_POISON',
          source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
        });
      }
    }
    deps.metrics.received.inc({ stage: STAGE }, batch.messages.length);
    if (poison.length > 0) {
      await sendDeadLetters(deps.producer, deps.dlqTopic, poison);
      deps.metrics.dropped.inc({ stage: STAGE, reason: 'poison' }, poison.length);
      log.warn(
        { count: poison.length, partition: batch.partition },
        'invalid alerts sent to the dead-letter topic',
      );
      for (const p of poison) tracker.begin(batch.partition, p.source.offset, 0);
    }

    await boundaries;
    // Unknown boundary (the fetch at assignment failed): this batch's high watermark was read
    // after the assignment, so it is at least the end at assignment.
    if (!checkBelow.has(batch.partition)) raise(batch.partition, BigInt(batch.highWatermark));
    const below = checkBelow.get(batch.partition) ?? 0n;
    const replayed = parsed
      .filter((p) => deps.checkAll || BigInt(p.offset) < below)
      .map((p) => recordId(p.item));
    const known: PriorDeliveries =
      replayed.length > 0 ? await prior([...new Set(replayed)]) : { final: new Set(), attempts: new Map() };
    // From now on a refetch of this batch (offsets this process took in) is checked too.
    if (batch.messages.length > 0) raise(batch.partition, BigInt(batch.lastOffset()) + 1n);
    for (const { offset, item } of parsed) {
      if (!isRunning() || isStale()) return; // not resolved: refetched by whoever owns the partition
      const { alert, change } = item;
      const id = recordId(item);
      // A follow-up goes where the alert's page went: the same routes, on the alert.
      const targets = route(deps.routing.routes, alert).filter((d) => !known.final.has(pairKey(id, d)));
      if (targets.length === 0) deps.metrics.dropped.inc({ stage: STAGE, reason: 'no_route_or_done' });
      tracker.begin(batch.partition, offset, targets.length);
      for (const d of targets) {
        deps.deliverer.submit(
          alert,
          d,
          (final) => {
            tracker.complete(batch.partition, offset);
            if (final === 'delivered') deps.metrics.sent.inc({ stage: STAGE });
            else deps.metrics.dropped.inc({ stage: STAGE, reason: 'delivery_failed' });
          },
          known.attempts.get(pairKey(id, d)) ?? 0,
          change,
        );
      }
      resolveOffset(offset);
    }
    // Highest offset of the batch: covers trailing poison messages too.
    if (batch.messages.length > 0) resolveOffset(batch.lastOffset());
    deps.metrics.batchSize.observe({ stage: STAGE }, batch.messages.length);
    deps.metrics.batchSeconds.observe({ stage: STAGE }, (performance.now() - started) / 1000);
    // Backpressure: hold the next fetch while too much is waiting on slow destinations.
    while (deps.deliverer.inFlight > deps.maxInFlight && isRunning() && !isStale()) {
      await sleep(50);
      await heartbeat();
    }
    await heartbeat();
  }

  let committing: Promise<void> | undefined;
  async function commitOnce(): Promise<void> {
    const offsets = tracker.committable();
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets.map((o) => ({ topic: deps.topic, ...o })));
      for (const o of offsets) tracker.markCommitted(o.partition, o.offset);
    } catch (err) {
      // A rebalance can reject the commit; the work is replayed and skipped by the log check.
      log.warn({ err }, 'offset commit failed; will retry');
    }
  }
  const commit = () => {
    committing ??= commitOnce().finally(() => {
      committing = undefined;
    });
    return committing;
  };

  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: deps.topic, fromBeginning: deps.fromBeginning });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
  const timer = setInterval(() => void commit(), deps.commitIntervalMs);
  timer.unref();

  return {
    pause() {
      consumer.pause([{ topic: deps.topic }]);
    },
    commit,
    async disconnect() {
      clearInterval(timer);
      await consumer.disconnect();
      await admin.disconnect();
    },
    healthy: () => !crashed && Date.now() - lastHeartbeat < 30_000,
  };
}
