import type { Message, Producer } from 'kafkajs';
import { AgentTrailError } from '../platform/errors.js';
import { type HashCheck, VALIDATED_HEADER, validatedValue } from '../platform/kafka/headers.js';
import { sendAcked } from '../platform/kafka/producer.js';

// Where accepted events go. An interface so app.ts can be built in tests with a fake; the real
// one is the shared idempotent acks=all producer (platform/kafka/producer.ts).

export interface SinkMessage {
  key: string;
  value: string;
  /** The gateway's check of the event's own hash; undefined when it carries none. */
  hash?: HashCheck | undefined;
}

export interface EventSink {
  /** Resolves only when Kafka acknowledged every message (acks=all); rejects otherwise. */
  produce(messages: SinkMessage[]): Promise<void>;
  /** Connected, and the last produce did not fail. */
  ready(): boolean;
}

export interface KafkaSinkOptions {
  /**
   * Most bytes (keys + values) one coalesced `send` carries. Requests are never split: a
   * request larger than this is sent alone. Kept at or under the broker's default
   * `message.max.bytes` (1 MiB per partition batch), so a flush of requests that each fit
   * cannot make a partition's batch too large for the broker.
   */
  maxFlushBytes?: number;
}

interface Pending {
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Its request already answered 503 (deadline): drop it if it was not sent yet. */
  abandoned: boolean;
}

export const DEFAULT_MAX_FLUSH_BYTES = 1024 * 1024;

/**
 * Requests are COALESCED: each enqueues its messages, and one `send` at a time carries every
 * request queued while the previous one was in flight (the idempotent producer has one request
 * in flight per broker anyway, so concurrent sends only queued inside kafkajs). A request
 * resolves when the send holding its messages is acknowledged (acks=all) and rejects when it
 * fails, so 202 still means "Kafka has all of my events". Measured (bench/gateway-ingest.bench.ts,
 * BENCH_BATCH=100, BENCH_CONCURRENCY=32, two runs each, shared 2-core machine): coalesced 5.6k and
 * 6.3k events/s at 113 µs gateway CPU per event; one send per request 4.8k and 3.2k events/s at
 * 144 and 130 µs. With 1,000-event requests (~1.3 MB, above the flush size) each is sent alone,
 * as before: a larger flush was tried and the broker refused it (MESSAGE_TOO_LARGE: a partition's
 * batch over 1 MiB), so coalescing cannot help big requests without splitting per partition.
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
  let connected = false;
  let lastFailed = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });

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
          lastFailed = false;
          for (const p of batch) p.resolve();
        } catch (err) {
          lastFailed = true;
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      sending = false;
    }
  }

  return {
    async produce(messages) {
      let bytes = 0;
      const kafkaMessages: Message[] = messages.map((m) => {
        bytes += m.key.length + m.value.length;
        return {
          key: m.key,
          value: m.value,
          headers: { [VALIDATED_HEADER]: validatedValue(m.hash) },
        };
      });
      let pending: Pending | undefined;
      const acked = new Promise<void>((resolve, reject) => {
        pending = { messages: kafkaMessages, bytes, resolve, reject, abandoned: false };
      });
      queue.push(pending!);
      void pump();

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Not sent yet: it never will be. Already in a send: kafkajs may still deliver it;
          // the collector then resends and the copy is removed downstream by event_id. What we
          // never do is answer 202 without the ack.
          pending!.abandoned = true;
          reject(new Error(`no acknowledgement from Kafka within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        await Promise.race([acked, deadline]);
      } catch (err) {
        // A timeout counts as a failure for /readyz, as a failed send does.
        lastFailed = true;
        throw new AgentTrailError('AT_ERR_KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the events', {
          cause: err,
        });
      } finally {
        clearTimeout(timer);
      }
    },
    ready: () => connected && !lastFailed,
  };
}
