import type { Alert } from '../../schemas/alert.js';
import type { AlertStatusRecord } from '../../schemas/alert-status.js';
import { backoffMs } from '../platform/backoff.js';
import type { Logger } from '../platform/logger.js';
import { type DeliveryLog, type DeliveryRow, pairKey } from './delivery-log.js';
import { type Batch, Grouper } from './grouper.js';
import type { AlerterMetrics } from './metrics.js';
import { type Page, pageId, pageStatusOf, timelineLink } from './page.js';
import { Semaphore, TokenBucket } from './rate-limit.js';
import type { ResolvedDestination, Routing } from './routes.js';
import type { AttemptResult, Sender } from './send.js';

// Delivery: one lane per destination, each with its own grouper, token bucket and
// concurrency cap, so a failing or hanging destination only ever waits on itself. A page is
// retried with exponential backoff and full jitter up to `max_attempts`; every attempt is
// logged. When a page is final (delivered, or permanently failed) and its final rows are
// durably in the delivery log, each alert it carried is reported done to its caller (which
// then lets the Kafka offset be committed).
//
// A responder's acknowledge or resolve (schemas/alert-status.ts) is delivered the same way, as a
// follow-up about its alert: grouped apart from the page, and logged under its status_id rather
// than the alert_id, so "the page went out" and "the resolve went out" are separate facts in the
// delivery log, each final once.

export type Final = 'delivered' | 'failed';
/** Called once per (alert, destination) submission when its delivery is final and logged. */
export type Done = (final: Final) => void;

interface Ticket {
  done: Done;
  /** Attempts already logged for this (alert, destination) by an earlier process. */
  priorAttempts: number;
  /** Set for a status follow-up: the change it reports. */
  change?: AlertStatusRecord;
}

interface Lane {
  dest: ResolvedDestination;
  grouper: Grouper<Ticket>;
  bucket: TokenBucket;
  slots: Semaphore;
}

export interface DelivererDeps {
  routing: Routing;
  send: Sender;
  log: DeliveryLog;
  logger: Logger;
  metrics?: AlerterMetrics;
  timelineBaseUrl?: string;
  random?: () => number;
}

export class Deliverer {
  private readonly lanes = new Map<string, Lane>();
  private readonly active = new Set<Promise<void>>();
  /** Callbacks per (alert, destination) in flight: a redelivered message joins, never re-sends. */
  private readonly inflight = new Map<string, Done[]>();
  private open = 0;
  private readonly logger: Logger;

  constructor(private readonly deps: DelivererDeps) {
    this.logger = deps.logger.child({ component: 'deliver' });
    for (const dest of deps.routing.destinations.values()) {
      const lane: Lane = {
        dest,
        bucket: new TokenBucket(dest.rate_per_s, dest.burst),
        slots: new Semaphore(dest.concurrency),
        grouper: new Grouper<Ticket>(
          { waitMs: dest.group_wait_ms, intervalMs: dest.group_interval_ms },
          (batch) => this.track(this.deliver(lane, batch)),
        ),
      };
      this.lanes.set(dest.name, lane);
    }
  }

  /** Submissions not yet final: the backpressure signal for the consumer. */
  get inFlight(): number {
    return this.open;
  }

  /** `change`: deliver a follow-up on this status change of `alert` instead of the alert itself. */
  submit(alert: Alert, destination: string, done: Done, priorAttempts = 0, change?: AlertStatusRecord): void {
    const lane = this.lanes.get(destination);
    if (!lane) throw new Error(`unknown destination ${destination}`); // routes are validated at start
    // After a rebalance Kafka may hand us a message we are still delivering; join it.
    const key = pairKey(change?.status_id ?? alert.alert_id, destination);
    const joined = this.inflight.get(key);
    if (joined) {
      joined.push(done);
      return;
    }
    this.inflight.set(key, [done]);
    this.open++;
    const ticket: Ticket = {
      priorAttempts,
      ...(change ? { change } : {}),
      done: (final) => {
        this.open--;
        const waiting = this.inflight.get(key) ?? [];
        this.inflight.delete(key);
        for (const cb of waiting) cb(final);
      },
    };
    lane.grouper.add(alert, ticket, change ? pageStatusOf(change) : alert.status);
  }

  /**
   * Shutdown: send everything still grouped now and wait for pages to become final, for at
   * most `deadlineMs`. Pages still retrying then are left unfinished: their offsets are not
   * committed, so the next start delivers them.
   */
  async drain(deadlineMs: number): Promise<void> {
    for (const lane of this.lanes.values()) lane.grouper.flush();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(r, deadlineMs);
    });
    const all = (async () => {
      while (this.active.size > 0) await Promise.allSettled([...this.active]);
    })();
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    if (this.open > 0) this.logger.warn({ unfinished: this.open }, 'deliveries left for the next start');
  }

  private track(p: Promise<void>): void {
    this.active.add(p);
    p.finally(() => this.active.delete(p)).catch(() => undefined);
  }

  private toPage(dest: ResolvedDestination, batch: Batch<Ticket>): Page {
    const alerts = batch.items.map((i) => i.alert);
    const latest = alerts[alerts.length - 1]!;
    const recordIds = batch.items.map((i) => i.ticket.change?.status_id ?? i.alert.alert_id);
    const change = batch.items[batch.items.length - 1]!.ticket.change;
    return {
      id: pageId(dest.name, batch.dedup_key, recordIds[0]!),
      destination: dest.name,
      dedup_key: batch.dedup_key,
      status: batch.status,
      alert: latest,
      alert_ids: alerts.map((a) => a.alert_id),
      record_ids: recordIds,
      ...(change ? { change } : {}),
      count: alerts.length,
      sequence: batch.sequence,
      total: batch.total,
      first_seen: batch.first_seen,
      last_seen: latest.created_at,
      link: timelineLink(latest, this.deps.timelineBaseUrl),
    };
  }

  private rows(page: Page, dest: ResolvedDestination, attempt: number, r: AttemptResult): DeliveryRow[] {
    const at = new Date().toISOString();
    // alert_id column: the record paged (an alert id, or a status id for a follow-up).
    return (page.record_ids ?? page.alert_ids).map((alert_id) => ({
      alert_id,
      destination: dest.name,
      destination_type: dest.type,
      delivery_id: page.id,
      dedup_key: page.dedup_key,
      group_count: page.count,
      attempt,
      status: r.outcome,
      http_status: r.http_status === 0 ? null : r.http_status,
      latency_ms: r.latency_ms,
      error: r.error === '' ? null : r.error,
      at,
    }));
  }

  private async deliver(lane: Lane, batch: Batch<Ticket>): Promise<void> {
    const { dest } = lane;
    const page = this.toPage(dest, batch);
    const m = this.deps.metrics;
    const random = this.deps.random ?? Math.random;
    let result: AttemptResult = { outcome: 'retry', http_status: 0, latency_ms: 0, error: 'not attempted' };
    // After a restart, attempts keep counting and the budget covers them all; at least one
    // attempt is always made for a page that was never final.
    let attempt = Math.max(...batch.items.map((i) => i.ticket.priorAttempts));
    const budget = Math.max(dest.max_attempts, attempt + 1);
    while (attempt < budget) {
      attempt++;
      await lane.bucket.take();
      const release = await lane.slots.acquire();
      try {
        result = await this.deps.send(dest, page);
      } finally {
        release();
      }
      m?.attempts.inc({ type: dest.type, destination: dest.name, outcome: result.outcome });
      m?.requestSeconds.observe({ type: dest.type, outcome: result.outcome }, result.latency_ms / 1000);
      if (result.outcome === 'retry' && attempt >= budget) result = { ...result, outcome: 'failed' };
      const rows = this.rows(page, dest, attempt, result);
      if (result.outcome !== 'retry') {
        await this.deps.log.append(rows);
        break;
      }
      void this.deps.log.append(rows); // not awaited: only final rows gate the offset commit
      const wait = Math.max(
        result.retry_after_ms ?? 0,
        backoffMs(attempt, dest.backoff_base_ms, dest.backoff_max_ms, random),
      );
      this.logger.debug(
        { destination: dest.name, attempt, error: result.error, wait_ms: wait },
        'page attempt failed; retrying',
      );
      await new Promise((r) => setTimeout(r, Math.min(wait, dest.backoff_max_ms)));
    }
    const final: Final = result.outcome === 'delivered' ? 'delivered' : 'failed';
    m?.pages.inc({ type: dest.type, destination: dest.name, outcome: final });
    if (final === 'delivered') {
      const ageS = (Date.now() - Date.parse(page.change?.at ?? page.alert.created_at)) / 1000;
      m?.pageAgeSeconds.observe({ type: dest.type }, Math.max(0, ageS));
    } else {
      // ERROR per the style guide's meaning: an operator must act (nobody was told).
      this.logger.error(
        {
          destination: dest.name,
          type: dest.type,
          attempts: attempt,
          error: result.error,
          alerts: page.count,
          delivery_id: page.id,
        },
        'page permanently failed',
      );
    }
    for (const item of batch.items) item.ticket.done(final);
  }
}
