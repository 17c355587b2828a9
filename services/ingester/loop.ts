import { type RetryPolicy, steadyBackoffMs } from '../platform/backoff.js';
import { type DeadLetter, poisonLetter, sendDeadLetters } from '../platform/kafka/dead-letter.js';
import { isValidated } from '../platform/kafka/headers.js';
import type { StageProducer } from '../platform/kafka/producer.js';
import type { BatchContext, HandlerFactory, StageBatch, StageMessage } from '../platform/kafka/runner.js';
import type { Logger } from '../platform/logger.js';
import type { StageMetrics } from '../platform/metrics.js';
import { isUtf8 } from '../platform/utf8.js';
import type { WriteHealth } from '../platform/write-health.js';
import { Batch, type Source } from './batch.js';
import { decodeLine } from './decode.js';
import type { EventWriter, Rejected } from './writer.js';

// The ingester's handler on the stage runner (platform/kafka/runner.ts): Kafka → decode →
// batch → ClickHouse. Its durability point: a batch's unit is done once its insert AND its
// dead-letter produce were acknowledged, and only then are its offsets committed.
//
// Batches span partitions and kafkajs batches (inserts of tens of thousands of rows keep
// ClickHouse's part count low). Flushes run one at a time and are never abandoned while the
// process lives, so a commit can never skip rows (the tracker commits up to the first unit not
// done). When ClickHouse is away the flush waits (heartbeating), the next batch fills up to its
// limit, and then the handler waits in its batch: Kafka intake stops, nothing is committed,
// nothing exits. A crash loses only uncommitted work, which Kafka redelivers; the `events`
// table collapses the copies (ReplacingMergeTree on event_id, reads use FINAL).

const STAGE = 'ingester';
const DLQ_CHUNK_BYTES = 256 * 1024;

export interface IngestSettings {
  dlqTopic: string;
  maxRows: number;
  maxBytes: number;
  intervalMs: number;
  retry: RetryPolicy;
  /**
   * `rows`: every row built here (decode.ts). `input`: ClickHouse derives the rows of marked
   * messages from their bytes (input-sql.ts); what it refuses, and unmarked messages, take the
   * rows path. Absent: rows (the configuration's default is input, config.ts).
   */
  insertMode?: InsertMode;
}

export type InsertMode = 'rows' | 'input';

const LF = 0x0a;
const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

/**
 * Keys whose value ClickHouse's parser would convert instead of refusing (input-sql.ts), with
 * what their value must start with here: `seq` and `schema_version` a digit (not a quoted or
 * boolean number), `data` an object (not a string). In the gateway's spelling (`"key":value`);
 * anything else takes the rows path, which names what is wrong. `probe`: a part of the key that
 * is rare in events, at `at` in the key (firstIndex).
 */
const CONVERTED: { key: Buffer; probe: number | Buffer; at: number; ok: (c: number) => boolean }[] = [
  { key: Buffer.from('"schema_version":'), probe: 0x76, at: 8, ok: (c) => c >= 0x30 && c <= 0x39 }, // v
  { key: Buffer.from('"seq":'), probe: 0x71, at: 3, ok: (c) => c >= 0x30 && c <= 0x39 }, // q
  { key: Buffer.from('"data":'), probe: Buffer.from('ta":'), at: 3, ok: (c) => c === OPEN },
];

/**
 * Where `key` first occurs in `v`, as `v.indexOf(key)` answers, found through the occurrences of
 * `probe` (at `at` in the key) in ascending order: the first that is inside a whole `key` is its
 * first occurrence. Node's search for a byte costs ~50 ns a call and for a short Buffer ~200 ns,
 * where its search for these keys cost 200-350 ns each however early they hit (the three keys on
 * the bench's events, in-process: 705-745 -> 273-346 ns); `q` and `v` occur once or a few times
 * in an event, `ta":` about once.
 */
function firstIndex(v: Buffer, key: Buffer, probe: number | Buffer, at: number): number {
  const last = v.length - key.length;
  for (let i = v.indexOf(probe, at); i !== -1 && i - at <= last; i = v.indexOf(probe, i + 1)) {
    const start = i - at;
    let j = 0;
    while (j < key.length && v[start + j] === key[j]) j++;
    if (j === key.length) return start;
  }
  return -1;
}

/** Exported for the test. */
export function convertedValue(v: Buffer): boolean {
  for (const { key, probe, at, ok } of CONVERTED) {
    const i = firstIndex(v, key, probe, at);
    if (i !== -1 && !ok(v[i + key.length]!)) return true;
  }
  return false;
}

/**
 * Input mode takes a message's bytes as they are when the gateway marked it and they can be
 * spliced into a JSONEachRow line: one `{…}` on one line, UTF-8 (anything else is poison or a
 * producer other than the gateway: the rows path names what is wrong).
 */
function spliceable(m: StageMessage): boolean {
  const v = m.value;
  if (
    v === null ||
    v.length < 2 ||
    v[0] !== OPEN ||
    v[v.length - 1] !== CLOSE ||
    !isValidated(m.headers) ||
    v.indexOf(LF) !== -1 ||
    !isUtf8(v)
  )
    return false;
  return !convertedValue(v);
}

/** How a flush waits: heartbeating inside a batch, plainly from the timer or at stop. */
type Waiter = Pick<BatchContext, 'wait' | 'heartbeat'>;
const outsideBatch: Waiter = { wait: (p) => p, heartbeat: async () => {} };

/**
 * The ingester's handler. A flush that fails for a reason other than an outage fails the stage
 * (`StageControl.fail`: the runner's `onFatal`, and main exits): nothing later may be committed.
 */
export function ingestHandler(deps: {
  producer: StageProducer;
  writer: EventWriter;
  log: Logger;
  metrics: StageMetrics;
  settings: IngestSettings;
  /** Told of every DLQ produce's outcome (the writer reports ClickHouse's); readiness. */
  health?: WriteHealth;
}): HandlerFactory {
  return (runner) => {
    const { producer, writer, metrics, settings } = deps;
    const log = deps.log.child({ component: 'loop' });
    const abort = new AbortController();
    let flushing: Promise<void> | undefined;
    const limits = {
      maxRows: settings.maxRows,
      maxBytes: settings.maxBytes,
      intervalMs: settings.intervalMs,
    };
    const { tracker } = runner;
    const insertInput = settings.insertMode === 'input' ? writer.insertInput : undefined;
    const inputMode = insertInput !== undefined;
    let batch = new Batch(tracker.unit());

    /**
     * Hand the current batch to the flusher, after the previous flush finished (intake held
     * meanwhile), without waiting for this one: decoding the next batch overlaps the insert,
     * and at most two batches are held.
     */
    async function startFlush(w: Waiter): Promise<void> {
      while (flushing) await w.wait(flushing);
      if (batch.size === 0 || runner.failed) return;
      const full = batch;
      batch = new Batch(tracker.unit());
      flushing = runFlush(full, w)
        .catch((err) => {
          // Not a ClickHouse or Kafka outage (those are retried for ever): a bug, or stop()'s
          // abort. Nothing may be committed after a lost batch, so the process must stop.
          if (!abort.signal.aborted) runner.fail(err);
        })
        .finally(() => {
          flushing = undefined;
        });
    }

    /** Flush everything held and wait until it is durable and committed. */
    async function flushAll(w: Waiter): Promise<void> {
      await startFlush(w);
      while (flushing) await w.wait(flushing);
    }

    async function runFlush(b: Batch, w: Waiter): Promise<void> {
      const started = performance.now();
      const control = {
        signal: abort.signal,
        onWait: w.heartbeat,
        onRetry: () => metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' }),
      };
      const token = b.token();
      const dead: DeadLetter[] = [...b.dead];
      const refused = (rejected: Rejected[], sources: Source[], eventIds: string[]) => {
        for (const r of rejected) {
          dead.push({
            ...poisonLetter(sources[r.index]!, { detail: r.reason, eventId: eventIds[r.index] }),
            code: 'AT_ERR_CLICKHOUSE_REJECTED',
            clickhouseCode: r.clickhouseCode,
          });
          metrics.dropped.inc({ stage: STAGE, reason: 'clickhouse_rejected' });
          metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_REJECTED' });
        }
        if (rejected.length > 0)
          log.error(
            { rows: rejected.length, codes: [...new Set(rejected.map((r) => r.clickhouseCode))] },
            'ClickHouse refused rows as data; sent to the DLQ, the rest stored',
          );
        return rejected.length;
      };
      let stored = b.rows;
      /** Rows ClickHouse derived from message bytes (input mode). */
      let derived = 0;
      stored -= refused(await writer.insert(b.lines, token, control), b.sources, b.eventIds);
      if (insertInput && b.raws.length > 0) {
        const inputRefused = await insertInput(
          b.raws.map((m) => m.value!),
          b.raws.map((m) => Number(m.timestamp)),
          `${token}:input`,
          control,
        );
        derived = b.raws.length - inputRefused.length;
        // What ClickHouse refused (bad data, or a row its SQL leaves to the rows path) goes the
        // rows path: stored as that path stores it, or dead-lettered with the reason it gives.
        const again = { lines: [] as string[], eventIds: [] as string[], sources: [] as Source[] };
        for (const r of inputRefused) {
          const source = b.rawSource(r.index);
          const d = decodeLine(b.raws[r.index]!);
          if (d.ok) {
            again.lines.push(d.line);
            again.eventIds.push(d.eventId);
            again.sources.push(source);
          } else {
            dead.push(poisonLetter(source, d));
            metrics.dropped.inc({ stage: STAGE, reason: d.reason });
            metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_MESSAGE_POISON' });
            stored--;
          }
        }
        if (inputRefused.length > 0)
          log.debug(
            { rows: inputRefused.length, stored: again.lines.length },
            'input mode: rows taken through the rows path',
          );
        stored -= refused(
          await writer.insert(again.lines, `${token}:rows-path`, control),
          again.sources,
          again.eventIds,
        );
      }
      const deadCount = dead.length;
      await sendDeadWithRetry(dead, control);
      // The durability point: rows and dead letters are acknowledged.
      b.unit.done();
      await runner.commit();
      metrics.sent.inc({ stage: STAGE }, stored);
      metrics.batchSize.observe({ stage: STAGE }, b.size);
      const seconds = (performance.now() - started) / 1000;
      metrics.batchSeconds.observe({ stage: STAGE }, seconds);
      const fields = { rows: b.rows, derived, dead: deadCount, ms: Math.round(seconds * 1000) };
      if (seconds > 10) log.warn(fields, 'slow flush');
      else log.debug(fields, 'flushed');
    }

    async function sendDeadWithRetry(
      dead: DeadLetter[],
      control: { signal: AbortSignal; onWait: () => Promise<void> },
    ) {
      for (let attempt = 1; dead.length > 0; attempt++) {
        control.signal.throwIfAborted();
        try {
          // Chunks well under the broker's default 1 MiB batch limit; already-sent chunks are
          // not re-sent on a retry.
          while (dead.length > 0) {
            const chunk = takeChunk(dead, DLQ_CHUNK_BYTES);
            await sendDeadLetters(producer, settings.dlqTopic, chunk);
            dead.splice(0, chunk.length);
          }
          deps.health?.succeeded('kafka');
          return;
        } catch (err) {
          deps.health?.failed('kafka', err);
          metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_KAFKA_UNAVAILABLE' });
          const delay = steadyBackoffMs(attempt, settings.retry);
          log.warn(
            { err: (err as Error).message, attempt, retryInMs: delay },
            'DLQ produce failed; retrying',
          );
          await sleep(delay);
          await control.onWait();
        }
      }
    }

    async function onBatch(kb: StageBatch, ctx: BatchContext): Promise<void> {
      let received = 0;
      // Asked at the start and after each wait, not per message: what it reads (the runner
      // stopping or failing, kafkajs running, a seek on this partition) is only changed by other
      // tasks, which run only while this one waits, so between waits its answer cannot change.
      // Each call built a partition key string in kafkajs (isStale): 3% of the ingester's profile.
      let owned = ctx.owned();
      for (const m of kb.messages) {
        if (!owned) break;
        const now = Date.now();
        const d = inputMode && spliceable(m) ? undefined : decodeLine(m);
        if (d === undefined) {
          // Its source is made only if ClickHouse refuses it (Batch.rawSource).
          batch.addRaw(m, kb.topic, kb.partition, now);
        } else {
          const source: Source = {
            topic: kb.topic,
            partition: kb.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
          };
          if (d.ok) {
            batch.addLine(d.line, d.eventId, source, now);
          } else {
            batch.addDead(poisonLetter(source, d), source, now);
            metrics.dropped.inc({ stage: STAGE, reason: d.reason });
            metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_MESSAGE_POISON' });
          }
        }
        ctx.take(m.offset, batch.unit);
        received++;
        // Full: holds intake only while the previous batch is still being written (backpressure).
        if (batch.rows >= limits.maxRows || batch.bytes >= limits.maxBytes) {
          await startFlush(ctx);
          owned = ctx.owned();
        }
      }
      metrics.received.inc({ stage: STAGE }, received);
      if (batch.isDue(Date.now(), limits)) await startFlush(ctx);
    }

    /** Time-based flush when no new messages arrive to trigger it. */
    function tick(): void {
      if (flushing || !batch.isDue(Date.now(), limits)) return;
      void startFlush(outsideBatch);
    }

    return {
      onBatch,
      async drain() {
        await flushAll(outsideBatch);
        log.info('consumer stopped; buffered rows flushed and committed');
      },
      timers: [{ what: 'timed flush', everyMs: Math.max(5, Math.floor(settings.intervalMs / 4)), run: tick }],
    };
  };
}

/** The longest prefix of `letters` within `maxBytes` of values (at least one letter). */
function takeChunk(letters: DeadLetter[], maxBytes: number): DeadLetter[] {
  let bytes = 0;
  let n = 0;
  while (n < letters.length) {
    bytes += (letters[n]!.value?.length ?? 0) + 512;
    if (n > 0 && bytes > maxBytes) break;
    n++;
  }
  return letters.slice(0, n);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
