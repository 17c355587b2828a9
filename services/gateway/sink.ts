import type { Producer } from 'kafkajs';
import { AgentTrailError } from '../platform/errors.js';
import { sendAcked } from '../platform/kafka/producer.js';

// Where accepted events go. An interface so app.ts can be built in tests with a fake; the real
// one is the shared idempotent acks=all producer (platform/kafka/producer.ts).

export interface SinkMessage {
  key: string;
  value: string;
  eventId: string;
}

export interface EventSink {
  /** Resolves only when Kafka acknowledged every message (acks=all); rejects otherwise. */
  produce(messages: SinkMessage[]): Promise<void>;
  /** Connected, and the last produce did not fail. */
  ready(): boolean;
}

export function kafkaSink(producer: Producer, topic: string, timeoutMs: number): EventSink {
  let connected = false;
  let lastFailed = false;
  producer.on(producer.events.CONNECT, () => {
    connected = true;
  });
  producer.on(producer.events.DISCONNECT, () => {
    connected = false;
  });
  return {
    async produce(messages) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no acknowledgement from Kafka within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        // kafkajs may still deliver after we gave up: the client then retries and the copy is
        // removed downstream by event_id. What we never do is answer 202 without the ack.
        await Promise.race([
          sendAcked(
            producer,
            topic,
            messages.map((m) => ({
              key: m.key,
              value: m.value,
              headers: { 'x-agenttrail-event-id': m.eventId },
            })),
          ),
          deadline,
        ]);
        lastFailed = false;
      } catch (err) {
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
