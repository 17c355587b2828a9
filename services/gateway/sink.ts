import { AgentTrailError } from '../platform/errors.js';
import { type HashCheck, VALIDATED_HEADER, validatedValue } from '../platform/kafka/headers.js';
import {
  type KafkaMessage as Message,
  type KafkaProducer as Producer,
  sendAcked,
} from '../platform/kafka/producer.js';

// Where accepted events go. An interface so app.ts can be built in tests with a fake; the real
// one is the shared idempotent acks=all producer (platform/kafka/producer.ts).

export interface SinkMessage {
  key: string;
  /** The event as stored: UTF-8 JSON (accept.ts). */
  value: Buffer;
  /** The gateway's check of the event's own hash; undefined when it carries none. */
  hash?: HashCheck | undefined;
}

export interface EventSink {
  /** Resolves only when Kafka acknowledged every message (acks=all); rejects otherwise. */
  produce(messages: SinkMessage[]): Promise<void>;
  /** Connected, and Kafka answering (not: the last request succeeded). */
  ready(): boolean;
}

export interface KafkaSinkOptions {
  /**
   * Most bytes (keys + values + per-record overhead) one `send` carries. Kept under the
   * broker's default `message.max.bytes` (1 MiB per partition batch): a request larger than
   * this is split into several sends, so every request the body limit admits can be produced.
   */
  maxFlushBytes?: number;
  /**
   * Asks Kafka whether it answers (e.g. admin describeCluster). After a send failed for a
   * reason of Kafka's (timeout, broker away), readiness returns only when a probe or a send
   * succeeds; without a probe, only a send can bring it back.
   */
  probe?: () => Promise<void>;
  /** Time between probes while not ready. */
  probeIntervalMs?: number;
}

interface Pending {
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Its request already answered 503 (deadline): drop it if it was not sent yet. */
  abandoned: boolean;
}

export const DEFAULT_MAX_FLUSH_BYTES = 960 * 1024;
/** Record framing and our header, per message, on top of key and value (conservative). */
const RECORD_OVERHEAD_BYTES = 96;

/** kafkajs error types that are about the request's size or content, not Kafka's health. */
const REQUEST_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

function requestErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined; e; ) {
    if (e.type && REQUEST_ERRORS.has(e.type)) return e.type;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

/** Split messages into runs of at most `maxBytes` (a run holds at least one message). */
export function splitByBytes<T>(items: T[], sizeOf: (t: T) => number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (run.length > 0 && bytes + size > maxBytes) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}

/**
 * Requests are COALESCED: each enqueues its messages, and one `send` at a time carries every
 * request queued while the previous one was in flight (the idempotent producer has one request
 * in flight per broker anyway, so concurrent sends only queued inside kafkajs). A request
 * resolves when every send holding its messages is acknowledged (acks=all) and rejects when one
 * fails, so 202 still means "Kafka has all of my events". Measured (bench/gateway-ingest.bench.ts,
 * BENCH_BATCH=100, BENCH_CONCURRENCY=32, two runs each, shared 2-core machine): coalesced 5.6k and
 * 6.3k events/s at 113 µs gateway CPU per event; one send per request 4.8k and 3.2k events/s at
 * 144 and 130 µs. A request above the flush size is split: 1,000-event requests (~1.3 MB) were
 * refused by the broker as one send (MESSAGE_TOO_LARGE: a partition's batch over 1 MiB), and a
 * collector retried them for ever. If one part fails after another was acknowledged, the
 * request still answers 503; the resend's copies are removed downstream by event_id.
 * Compression stays None (sendAcked): gzip measured 7.2k/6.9k events/s at 93/96 µs per event
 * against 8.0k/7.6k at 92/91 µs uncompressed (bench defaults, two interleaved pairs).
 */
export function kafkaSink(
  producer: Producer,
  topic: string,
  timeoutMs: number,
  opts: KafkaSinkOptions = {},
): EventSink {
  const maxFlushBytes = opts.maxFlushBytes ?? DEFAULT_MAX_FLUSH_BYTES;
  const probeIntervalMs = opts.probeIntervalMs ?? 1_000;
  let connected = false;
  let kafkaFailing = false;
  let probing: NodeJS.Timeout | undefined;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
    if (probing) clearTimeout(probing);
    probing = undefined;
  });

  function markFailing(): void {
    kafkaFailing = true;
    if (probing || !opts.probe) return;
    const probe = opts.probe;
    const again = () => {
      probing = setTimeout(async () => {
        try {
          await probe();
          kafkaFailing = false;
          probing = undefined;
        } catch {
          if (probing) again();
        }
      }, probeIntervalMs);
      probing.unref();
    };
    again();
  }
  function markHealthy(): void {
    kafkaFailing = false;
    if (probing) clearTimeout(probing);
    probing = undefined;
  }

  const queue: Pending[] = [];
  let sending = false;

  async function pump(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) {
        const batch: Pending[] = [];
        let bytes = 0;
        while (queue.length > 0) {
          const next = queue[0]!;
          if (next.abandoned) {
            queue.shift();
            continue;
          }
          if (batch.length > 0 && bytes + next.bytes > maxFlushBytes) break;
          queue.shift();
          batch.push(next);
          bytes += next.bytes;
        }
        if (batch.length === 0) break;
        const messages = batch.length === 1 ? batch[0]!.messages : batch.flatMap((p) => p.messages);
        try {
          await sendAcked(producer, topic, messages);
          markHealthy();
          for (const p of batch) p.resolve();
        } catch (err) {
          // A refusal of the request itself says nothing about Kafka's health.
          if (!requestErrorType(err)) markFailing();
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      sending = false;
    }
  }

  function enqueue(messages: Message[], bytes: number): { acked: Promise<void>; pending: Pending } {
    let pending: Pending | undefined;
    const acked = new Promise<void>((resolve, reject) => {
      pending = { messages, bytes, resolve, reject, abandoned: false };
    });
    queue.push(pending!);
    return { acked, pending: pending! };
  }

  return {
    async produce(messages) {
      const sized = messages.map((m) => ({
        message: {
          key: m.key,
          value: m.value,
          headers: { [VALIDATED_HEADER]: validatedValue(m.hash) },
        } as Message,
        bytes: m.key.length + m.value.length + RECORD_OVERHEAD_BYTES,
      }));
      const tooBig = sized.findIndex((s) => s.bytes > maxFlushBytes);
      if (tooBig >= 0) {
        throw new AgentTrailError(
          'AT_ERR_BODY_TOO_LARGE',
          `event ${tooBig} is ${sized[tooBig]!.bytes} bytes as stored; the per-event limit is ${maxFlushBytes} (GATEWAY_KAFKA_FLUSH_BYTES); nothing was accepted`,
          { details: { results: [{ index: tooBig, status: 'too_large' }] } },
        );
      }
      const parts = splitByBytes(sized, (s) => s.bytes, maxFlushBytes).map((run) =>
        enqueue(
          run.map((s) => s.message),
          run.reduce((n, s) => n + s.bytes, 0),
        ),
      );
      void pump();

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Not sent yet: it never will be. Already in a send: kafkajs may still deliver it;
          // the collector then resends and the copy is removed downstream by event_id. What we
          // never do is answer 202 without the ack.
          for (const p of parts) p.pending.abandoned = true;
          reject(new Error(`no acknowledgement from Kafka within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        await Promise.race([Promise.all(parts.map((p) => p.acked)), deadline]);
      } catch (err) {
        for (const p of parts) p.pending.abandoned = true;
        const refused = requestErrorType(err);
        if (refused) {
          // Retrying cannot help: the broker's limits are below what this gateway sends.
          throw new AgentTrailError(
            'AT_ERR_BODY_TOO_LARGE',
            `Kafka refused the events (${refused}): the broker's message.max.bytes is below the gateway's flush size of ${maxFlushBytes} bytes; lower GATEWAY_KAFKA_FLUSH_BYTES or raise the broker limit`,
            { cause: err },
          );
        }
        // A timeout counts as a failure for /readyz, as a failed send does.
        markFailing();
        throw new AgentTrailError('AT_ERR_KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the events', {
          cause: err,
        });
      } finally {
        clearTimeout(timer);
      }
    },
    ready: () => connected && !kafkaFailing,
  };
}
