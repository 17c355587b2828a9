import { Alert } from '../../schemas/alert.js';
import { AlertStatusMessage, type AlertStatusRecord } from '../../schemas/alert-status.js';
import { type DeadLetter, poisonLetter, sendDeadLetters } from '../platform/kafka/dead-letter.js';
import { type Poison, parseMessageJson, poison } from '../platform/kafka/event-message.js';
import type { StageProducer } from '../platform/kafka/producer.js';
import type { Assignment, BatchContext, HandlerFactory, StageBatch } from '../platform/kafka/runner.js';
import type { Logger } from '../platform/logger.js';
import type { StageMetrics } from '../platform/metrics.js';
import type { Deliverer } from './deliver.js';
import { type DeliveryStore, type PriorDeliveries, pairKey } from './delivery-log.js';
import { type Routing, route } from './routes.js';

// The alerter's handler on the stage runner (platform/kafka/runner.ts). Exactly-once paging
// across restarts rests on two rules:
//  1. Its durability point: an alert's unit (platform/kafka/offsets.ts) has one part per
//     destination, done when that delivery is final and its final row is in the delivery log
//     (Deliverer's `done`); only then is its offset committable. A crash therefore replays
//     every alert not finished: nothing undelivered is lost.
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
  producer: StageProducer;
  /** The topic followed (for log lines). */
  topic: string;
  dlqTopic: string;
  routing: Routing;
  deliverer: Deliverer;
  store: DeliveryStore;
  metrics: StageMetrics;
  logger: Logger;
  maxInFlight: number;
  /** How a message becomes something to page; default: an Alert (the alerts topic). */
  decode?: Decoder;
  /** Ask the delivery log about every message, not only possible replays (the status topic). */
  checkAll?: boolean;
}

const STAGE = 'alerter';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nothingKnown = (): PriorDeliveries => ({ final: new Set(), attempts: new Map() });

/** The alerter's handler: its durability point is each delivery's final row (rule 1 above). */
export function alertHandler(deps: ConsumeDeps): HandlerFactory {
  return (runner) => {
    const log = deps.logger.child({ component: 'consume', topic: deps.topic });
    const decode = deps.decode ?? decodeAlert;
    /**
     * partition → offsets below this may have been paged already and are checked against the
     * delivery log; at and past it they are new. Absent: not known yet (see `onAssign`).
     */
    const checkBelow = new Map<number, bigint>();
    let boundaries: Promise<void> = Promise.resolve();
    const raise = (partition: number, offset: bigint) => {
      const was = checkBelow.get(partition);
      if (was === undefined || offset > was) checkBelow.set(partition, offset);
    };

    /** Emitted before the first fetch of the new generation; onBatch awaits the ends. */
    function onAssign({ partitions, ends }: Assignment): void {
      for (const p of [...checkBelow.keys()]) if (!partitions.includes(p)) checkBelow.delete(p);
      boundaries = ends().then(
        (highs) => {
          for (const [p, high] of highs) raise(p, high);
        },
        (err) => {
          // The first batch's high watermark (later, so at least as high) stands in: see onBatch.
          log.warn({ err }, 'could not read the partition ends at assignment; using the first fetch');
        },
      );
    }

    async function prior(ids: string[]): Promise<PriorDeliveries> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await deps.store.prior(ids);
        } catch (err) {
          deps.metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' });
          if (attempt >= 3) {
            // A missed page is worse than a duplicate: page without the check, and say so.
            log.warn(
              { err, alerts: ids.length },
              'delivery log unreachable; paging without the replay check',
            );
            return nothingKnown();
          }
          await sleep(200 * attempt);
        }
      }
    }

    /** A message value as what to page, or why it is poison (the shared vocabulary). */
    function decodeMessage(value: Buffer | null): { ok: true; item: Decoded } | Poison {
      const parsed = parseMessageJson(value);
      if (!parsed.ok) return parsed;
      try {
        const r = decode(parsed.json);
        return r.success ? { ok: true, item: r.data } : poison('schema', r.error);
      } catch (err) {
        return poison('schema', `undecodable: ${(err as Error).message}`);
      }
    }

    async function onBatch(batch: StageBatch, ctx: BatchContext): Promise<void> {
      const started = performance.now();
      const { partition } = batch;
      const items = batch.messages.map((m) => ({ offset: m.offset, d: decodeMessage(m.value) }));
      const letters: DeadLetter[] = [];
      items.forEach(({ d }, i) => {
        if (d.ok) return;
        const m = batch.messages[i]!;
        letters.push(
          poisonLetter({ topic: batch.topic, partition, offset: m.offset, key: m.key, value: m.value }, d),
        );
        deps.metrics.dropped.inc({ stage: STAGE, reason: d.reason });
      });
      deps.metrics.received.inc({ stage: STAGE }, batch.messages.length);
      if (letters.length > 0) {
        await ctx.wait(sendDeadLetters(deps.producer, deps.dlqTopic, letters));
        log.warn({ count: letters.length, partition }, 'invalid messages sent to the dead-letter topic');
      }

      await ctx.wait(boundaries);
      // Unknown boundary (the fetch at assignment failed): this batch's high watermark was read
      // after the assignment, so it is at least the end at assignment.
      if (!checkBelow.has(partition)) raise(partition, BigInt(batch.highWatermark));
      const below = checkBelow.get(partition) ?? 0n;
      const replayed = new Set<string>();
      for (const { offset, d } of items)
        if (d.ok && (deps.checkAll || BigInt(offset) < below)) replayed.add(recordId(d.item));
      const known = replayed.size > 0 ? await ctx.wait(prior([...replayed])) : nothingKnown();
      // From now on a refetch of this batch (offsets this process took in) is checked too.
      const last = batch.messages.at(-1);
      if (last) raise(partition, BigInt(last.offset) + 1n);

      for (const { offset, d } of items) {
        if (!ctx.owned()) return; // not taken: refetched by whoever owns the partition
        if (!d.ok) {
          ctx.take(offset); // on the dead-letter topic already
          continue;
        }
        const { alert, change } = d.item;
        const id = recordId(d.item);
        // A follow-up goes where the alert's page went: the same routes, on the alert.
        const targets = route(deps.routing.routes, alert).filter((t) => !known.final.has(pairKey(id, t)));
        if (targets.length === 0) {
          deps.metrics.dropped.inc({ stage: STAGE, reason: 'no_route_or_done' });
          ctx.take(offset);
          continue;
        }
        const unit = runner.tracker.unit(targets.length);
        ctx.take(offset, unit);
        for (const t of targets) {
          deps.deliverer.submit(
            alert,
            t,
            (final) => {
              unit.done();
              if (final === 'delivered') deps.metrics.sent.inc({ stage: STAGE });
              else deps.metrics.dropped.inc({ stage: STAGE, reason: 'delivery_failed' });
            },
            known.attempts.get(pairKey(id, t)) ?? 0,
            change,
          );
        }
      }
      deps.metrics.batchSize.observe({ stage: STAGE }, batch.messages.length);
      deps.metrics.batchSeconds.observe({ stage: STAGE }, (performance.now() - started) / 1000);
    }

    /** Back-pressure: the partition pauses while too much waits on slow destinations. */
    async function room(): Promise<void> {
      while (deps.deliverer.inFlight > deps.maxInFlight) await sleep(50);
    }

    return {
      onBatch,
      onAssign,
      backlog: () => (deps.deliverer.inFlight > deps.maxInFlight ? room() : undefined),
    };
  };
}
