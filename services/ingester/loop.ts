import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { type RetryPolicy, steadyBackoffMs } from '../platform/backoff.js';
import { type ConsumerLoop, type Heartbeat, noHeartbeat } from '../platform/kafka/consumer-loop.js';
import { type DeadLetter, sendDeadLetters } from '../platform/kafka/dead-letter.js';
import { isValidated } from '../platform/kafka/headers.js';
import type { Logger } from '../platform/logger.js';
import type { StageMetrics } from '../platform/metrics.js';
import { isUtf8 } from '../platform/utf8.js';
import type { WriteHealth } from '../platform/write-health.js';
import { Batch, type Source } from './batch.js';
import { decodeMessage } from './decode.js';
import { trustedLine } from './trusted.js';
import type { EventWriter } from './writer.js';

// The consumer loop: Kafka → decode → batch → ClickHouse, committing offsets only after the
// insert AND the dead-letter produce were acknowledged.
//
// Batches span partitions and kafkajs batches (inserts of tens of thousands of rows keep
// ClickHouse's part count low). Flushes run one at a time and are never abandoned while the
// process lives: a batch is committed only when it and every earlier batch are durable, so a
// commit can never skip rows. When ClickHouse is away the flush waits (heartbeating), the
// next batch fills up to its limit, and then eachBatch blocks: Kafka intake stops, nothing is
// committed, nothing exits. A crash loses only uncommitted work, which Kafka redelivers; the
// `events` table collapses the copies (ReplacingMergeTree on event_id, reads use FINAL).

const STAGE = 'ingester';
const DLQ_CHUNK_BYTES = 256 * 1024;

export interface LoopSettings {
  topic: string;
  dlqTopic: string;
  groupId: string;
  maxRows: number;
  maxBytes: number;
  intervalMs: number;
  retry: RetryPolicy;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  fetchMaxBytes: number;
  fetchMaxBytesPerPartition: number;
}

/** Stop: stop intake, flush and commit what is held, leave the group. */
export type IngestLoop = ConsumerLoop;

export function createIngestLoop(deps: {
  kafka: Kafka;
  producer: Producer;
  writer: EventWriter;
  log: Logger;
  metrics: StageMetrics;
  settings: LoopSettings;
  /** Told of every DLQ produce's outcome (the writer reports ClickHouse's). */
  health?: WriteHealth;
  /** A flush failed for a reason other than an outage: the process must stop (main exits). */
  onFatal: (err: unknown) => void;
}): IngestLoop {
  const { producer, writer, metrics, settings } = deps;
  const log = deps.log.child({ component: 'loop' });
  const consumer: Consumer = deps.kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    maxBytes: settings.fetchMaxBytes,
    maxBytesPerPartition: settings.fetchMaxBytesPerPartition,
    maxWaitTimeInMs: Math.min(500, settings.intervalMs),
    allowAutoTopicCreation: false,
  });
  const abort = new AbortController();
  let batch = new Batch();
  let flushing: Promise<void> | undefined;
  let inBatch: Promise<void> | undefined;
  let stopping = false;
  let failed: unknown;
  let timer: NodeJS.Timeout | undefined;
  let lastHeartbeat = Date.now();
  let assigned = new Set<string>();
  const limits = { maxRows: settings.maxRows, maxBytes: settings.maxBytes, intervalMs: settings.intervalMs };

  consumer.on(consumer.events.HEARTBEAT, () => {
    lastHeartbeat = Date.now();
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const a = e.payload.memberAssignment as Record<string, number[]>;
    assigned = new Set(Object.entries(a).flatMap(([t, ps]) => ps.map((p) => `${t}/${p}`)));
    log.info({ partitions: [...assigned].sort() }, 'partitions assigned');
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.error(
      { err: e.payload.error, restart: e.payload.restart },
      'Kafka consumer crashed; kafkajs restarts it',
    );
  });

  /** Wait for `p`, heartbeating every few seconds so the group keeps this member. */
  async function awaitHeartbeating(p: Promise<void>, heartbeat: Heartbeat): Promise<void> {
    let done = false;
    const settled = p.finally(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([settled, sleep(settings.heartbeatIntervalMs)]);
      if (!done) await safeHeartbeat(heartbeat);
    }
    await settled;
  }

  async function safeHeartbeat(heartbeat: Heartbeat): Promise<void> {
    try {
      await heartbeat();
    } catch (err) {
      // A rebalance: keep going; this flush still completes, its commit may be refused, and
      // Kafka redelivers whatever was not committed.
      log.warn({ err: (err as Error).message }, 'heartbeat failed during a flush');
    }
  }

  /**
   * Hand the current batch to the flusher, after the previous flush finished (heartbeating
   * meanwhile), without waiting for this one: decoding the next batch overlaps the insert,
   * and at most two batches are held.
   */
  async function startFlush(heartbeat: Heartbeat): Promise<void> {
    while (flushing) await awaitHeartbeating(flushing, heartbeat);
    if (batch.size === 0 || failed) return;
    const full = batch;
    batch = new Batch();
    flushing = runFlush(full, heartbeat)
      .catch((err) => {
        // Not a ClickHouse or Kafka outage (those are retried for ever): a bug, or stop()'s
        // abort. Nothing may be committed after a lost batch, so the process must stop.
        failed = err;
        if (!abort.signal.aborted) deps.onFatal(err);
      })
      .finally(() => {
        flushing = undefined;
      });
  }

  /** Flush everything held and wait until it is durable and committed. */
  async function flushAll(heartbeat: Heartbeat): Promise<void> {
    await startFlush(heartbeat);
    while (flushing) await awaitHeartbeating(flushing, heartbeat);
  }

  async function runFlush(b: Batch, heartbeat: Heartbeat): Promise<void> {
    const started = performance.now();
    const control = {
      signal: abort.signal,
      onWait: () => safeHeartbeat(heartbeat),
      onRetry: () => metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_CLICKHOUSE_UNAVAILABLE' }),
    };
    const rejected = await writer.insert(b.lines, b.token(), control);
    const dead: DeadLetter[] = [...b.dead];
    for (const r of rejected) {
      const s = b.sources[r.index]!;
      dead.push({
        ...letter(s, r.reason, b.eventIds[r.index]),
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
    await sendDeadWithRetry(dead, control);
    await commit(b);
    metrics.sent.inc({ stage: STAGE }, b.lines.length - rejected.length);
    metrics.batchSize.observe({ stage: STAGE }, b.size);
    const seconds = (performance.now() - started) / 1000;
    metrics.batchSeconds.observe({ stage: STAGE }, seconds);
    const fields = { rows: b.lines.length, dead: dead.length, ms: Math.round(seconds * 1000) };
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
        log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, 'DLQ produce failed; retrying');
        await sleep(delay);
        await control.onWait();
      }
    }
  }

  async function commit(b: Batch): Promise<void> {
    const offsets = b.commits().filter((c) => assigned.has(`${c.topic}/${c.partition}`));
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
    } catch (err) {
      // The rows are durable; an uncommitted range is only redelivered (and collapsed).
      log.warn({ err: (err as Error).message }, 'offset commit failed; the range will be redelivered');
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch: kb, resolveOffset, heartbeat, isRunning, isStale } = payload;
    let received = 0;
    // Resolved = taken into the batch (not committed): kafkajs fetches on from there. Resolved
    // before every await and at the end rather than per message (kafkajs parses the offset
    // into a Long on each call).
    let unresolved: string | undefined;
    for (const m of kb.messages) {
      if (stopping || failed || !isRunning() || isStale()) break;
      const source: Source = {
        topic: kb.topic,
        partition: kb.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
      };
      const now = Date.now();
      // Marked by the gateway as validated with the full schema: the structural check only
      // (trusted.ts); when it fails, the full schema decides below, as for unmarked messages.
      const line = isValidated(m.headers) ? trusted(m.value, Number(m.timestamp)) : undefined;
      if (line !== undefined) {
        batch.addLine(line.line, line.eventId, source, now);
      } else {
        const decoded = decodeMessage(m.value, Number(m.timestamp));
        if (decoded.ok) {
          batch.addRow(decoded.row, source, now);
        } else {
          batch.addDead(letter(source, decoded.detail, decoded.eventId), source, now);
          metrics.dropped.inc({ stage: STAGE, reason: decoded.reason });
          metrics.errors.inc({ stage: STAGE, code: 'AT_ERR_MESSAGE_POISON' });
        }
      }
      unresolved = m.offset;
      received++;
      // Full: blocks only while the previous batch is still being written (backpressure).
      if (batch.lines.length >= limits.maxRows || batch.bytes >= limits.maxBytes) {
        resolveOffset(unresolved);
        unresolved = undefined;
        await startFlush(heartbeat);
      }
    }
    if (unresolved !== undefined) resolveOffset(unresolved);
    metrics.received.inc({ stage: STAGE }, received);
    if (batch.isDue(Date.now(), limits)) await startFlush(heartbeat);
    await safeHeartbeat(heartbeat);
  }

  function letter(s: Source, reason: string, eventId?: string): DeadLetter {
    return {
      value: s.value,
      key: s.key,
      reason,
      code: 'AT_ERR_MESSAGE_POISON',
      source: { topic: s.topic, partition: s.partition, offset: s.offset },
      eventId,
    };
  }

  /** Time-based flush when no new messages arrive to trigger it. */
  function tick(): void {
    if (stopping || flushing || !batch.isDue(Date.now(), limits)) return;
    void startFlush(noHeartbeat);
  }

  return {
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        // Resolve per message ourselves: a batch cut short must be fetched again.
        eachBatchAutoResolve: false,
        eachBatch: (payload) => {
          const p = eachBatch(payload);
          inBatch = p.catch(() => {});
          return p;
        },
      });
      timer = setInterval(tick, Math.max(5, Math.floor(settings.intervalMs / 4)));
      log.info({ topic: settings.topic, group: settings.groupId }, 'consuming');
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      consumer.pause([{ topic: settings.topic }]);
      await inBatch;
      await flushAll(noHeartbeat);
      await consumer.disconnect();
      log.info('consumer stopped; buffered rows flushed and committed');
    },
    healthy() {
      return !stopping && !failed && Date.now() - lastHeartbeat < settings.sessionTimeoutMs;
    },
  };
}

/** The trusted path's line and event id, or undefined: the full schema decides. */
function trusted(
  value: Buffer | null,
  kafkaTimestampMs: number,
): { line: string; eventId: string } | undefined {
  // Not UTF-8: the full path dead-letters it with the byte.
  if (value === null || value.length === 0 || !isUtf8(value)) return undefined;
  let input: unknown;
  try {
    input = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  // Never throws: whatever the structural check cannot take (e.g. nesting too deep to
  // serialise, a RangeError that crashed the consumer) goes to the full schema, which names it.
  try {
    const line = trustedLine(input, kafkaTimestampMs);
    return line === undefined ? undefined : { line, eventId: (input as { event_id: string }).event_id };
  } catch {
    return undefined;
  }
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
