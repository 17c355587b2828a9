import type { ClickHouseClient } from '@clickhouse/client';
import { backoffMs } from '../platform/backoff.js';
import { ALL_TENANTS, DeliveriesRepository } from '../platform/clickhouse/read/index.js';
import { insertIsolatingRefused, isDataError } from '../platform/clickhouse/refused-rows.js';
import type { Logger } from '../platform/logger.js';

// The delivery log (ClickHouse `alert_deliveries`): one row per attempt per alert a page
// carried. It is both the audit of who was told what, when, and the alerter's memory across
// restarts: a final row (delivered or failed) for (alert_id, destination) means "never again".

export type DeliveryStatus = 'retry' | 'delivered' | 'failed';
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['delivered', 'failed'];

export interface DeliveryRow {
  alert_id: string;
  destination: string;
  destination_type: string;
  delivery_id: string;
  dedup_key: string;
  group_count: number;
  attempt: number;
  status: DeliveryStatus;
  /** null when no HTTP answer came (timeout, connection refused). */
  http_status: number | null;
  latency_ms: number;
  /** Short reason (`http 500`, `timeout`, `ECONNREFUSED`); never a URL or a response body. */
  error: string | null;
  at: string;
}

/** What the log already knows about some alerts, keyed by `pairKey(alert_id, destination)`. */
export interface PriorDeliveries {
  /** Pairs with a final row (delivered or failed): never sent again. */
  final: Set<string>;
  /** Highest attempt logged per pair, so attempts keep counting across a restart. */
  attempts: Map<string, number>;
}

/** Where rows go; ClickHouse in production, an array in unit tests. */
export interface DeliveryStore {
  write(rows: DeliveryRow[]): Promise<void>;
  prior(alertIds: string[]): Promise<PriorDeliveries>;
}

export const pairKey = (alertId: string, destination: string) => `${alertId}\u0000${destination}`;

export function clickHouseStore(client: ClickHouseClient, database: string): DeliveryStore {
  const read = new DeliveriesRepository({ client, database, caller: 'alerter' });
  return {
    async write(rows) {
      // ClickHouse DateTime64 takes 'YYYY-MM-DD hh:mm:ss.sss'; best_effort parsing is on in the client.
      await client.insert({ table: 'alert_deliveries', values: rows, format: 'JSONEachRow' });
    },
    async prior(alertIds) {
      const out: PriorDeliveries = { final: new Set(), attempts: new Map() };
      if (alertIds.length === 0) return out;
      for (const r of await read.summary(ALL_TENANTS, alertIds, FINAL_STATUSES)) {
        const key = pairKey(r.alert_id, r.destination);
        out.attempts.set(key, Number(r.attempts));
        if (r.is_final === true || Number(r.is_final) === 1) out.final.add(key);
      }
      return out;
    },
  };
}

/**
 * Buffers rows and writes them every `flushIntervalMs` (one insert per flush, not per
 * attempt). `append` resolves once its rows are durably written, so callers that need the
 * row on disk (before committing a Kafka offset) await it; a failed insert is retried with
 * backoff and nothing is dropped.
 */
export class DeliveryLog {
  private buffer: Array<{ row: DeliveryRow; done: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly logger: Logger,
    private readonly opts: {
      flushIntervalMs: number;
      onWriteError?: (err: unknown) => void;
      onWritten?: () => void;
      /**
       * Rows ClickHouse refused as data (platform/clickhouse/refused-rows.ts), after the rest of
       * the batch was written: the caller dead-letters them. Retrying them would hold every later
       * delivery's offset commit for ever.
       */
      onRefused?: (
        rows: Array<{ row: DeliveryRow; reason: string; clickhouseCode: string }>,
      ) => Promise<void>;
    },
  ) {}

  append(rows: DeliveryRow[]): Promise<void> {
    return new Promise((resolve) => {
      let left = rows.length;
      if (left === 0) return resolve();
      for (const row of rows) this.buffer.push({ row, done: () => --left === 0 && resolve() });
      this.schedule(this.opts.flushIntervalMs);
    });
  }

  get pending(): number {
    return this.buffer.length;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** Write everything buffered now; retries until written (or closed). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = (async () => {
      while (this.buffer.length > 0) {
        const batch = this.buffer;
        this.buffer = [];
        const rows = batch.map((b) => b.row);
        try {
          // Parts are retried until written (outages) or refused (data): a part written once is
          // never written again, so a retry adds no duplicate rows.
          const refused = await insertIsolatingRefused(rows, '', (part) => this.writeRetrying([...part]));
          if (refused.length > 0) {
            this.logger.error(
              { rows: refused.length, codes: [...new Set(refused.map((r) => r.clickhouseCode))] },
              'ClickHouse refused delivery rows as data; sent to the DLQ, the rest written',
            );
            await this.opts.onRefused?.(refused.map((r) => ({ ...r, row: rows[r.index]! })));
          }
          for (const b of batch) b.done();
        } catch {
          // Closed while ClickHouse was away: the rows stay unwritten, their offsets uncommitted.
          this.buffer = batch.concat(this.buffer);
          return;
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length > 0) this.schedule(this.opts.flushIntervalMs);
    });
    return this.flushing;
  }

  private async writeRetrying(rows: DeliveryRow[]): Promise<void> {
    for (;;) {
      try {
        await this.store.write(rows);
        this.failures = 0;
        this.opts.onWritten?.();
        return;
      } catch (err) {
        if (isDataError(err)) {
          this.opts.onWritten?.(); // ClickHouse answered: it is up, the rows are the problem.
          throw err;
        }
        this.failures++;
        this.opts.onWriteError?.(err);
        this.logger.error(
          { err, rows: rows.length, failures: this.failures },
          'delivery log write failed; retrying',
        );
        if (this.closed) throw err;
        await new Promise((r) => setTimeout(r, 100 + backoffMs(this.failures, 200, 5_000)));
      }
    }
  }

  /** Final flush, one try: rows that still fail stay unwritten, so their offsets stay uncommitted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
  }
}
