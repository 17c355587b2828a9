import { EVENT_ID_HEADER } from './headers.js';
import type { OutgoingMessage, StageProducer } from './producer.js';

// The DLQ format, for every stage: the original key and bytes, untouched (nothing is lost, and
// a message can be replayed after a fix), with what went wrong in headers:
//   x-agenttrail-reason           the detail (event-message.ts), at most 2 KiB
//   x-agenttrail-code             catalogue code: AT_ERR_MESSAGE_POISON or AT_ERR_CLICKHOUSE_REJECTED
//   x-agenttrail-source           topic/partition/offset it came from
//   x-agenttrail-dead-at          when
//   x-agenttrail-event-id         the event it held, when known
//   x-agenttrail-clickhouse-code  ClickHouse's own code, when ClickHouse refused the row

export interface DeadLetter {
  value: Buffer | null;
  key: Buffer | null;
  reason: string;
  code: string;
  clickhouseCode?: string;
  source: { topic: string; partition: number; offset: string };
  eventId?: string;
}

/** Where a consumed message came from, with its bytes. */
export interface MessageSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** The dead letter of a consumed message that is not what its topic holds. */
export function poisonLetter(s: MessageSource, p: { detail: string; eventId?: string }): DeadLetter {
  return {
    value: s.value,
    key: s.key,
    reason: p.detail,
    code: 'AT_ERR_MESSAGE_POISON',
    source: { topic: s.topic, partition: s.partition, offset: s.offset },
    eventId: p.eventId,
  };
}

/** Put dead letters on the dead-letter topic (acks=all). */
export async function sendDeadLetters(
  producer: StageProducer,
  dlqTopic: string,
  letters: DeadLetter[],
): Promise<void> {
  await producer.send(
    dlqTopic,
    letters.map((l): OutgoingMessage => {
      const headers: Record<string, string> = {
        'x-agenttrail-reason': l.reason.slice(0, 2048),
        'x-agenttrail-code': l.code,
        'x-agenttrail-source': `${l.source.topic}/${l.source.partition}/${l.source.offset}`,
        'x-agenttrail-dead-at': new Date().toISOString(),
      };
      if (l.eventId) headers[EVENT_ID_HEADER] = l.eventId;
      if (l.clickhouseCode) headers['x-agenttrail-clickhouse-code'] = l.clickhouseCode;
      return { key: l.key, value: l.value, headers };
    }),
  );
}
