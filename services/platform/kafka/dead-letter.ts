import type { IHeaders, Producer } from 'kafkajs';
import { EVENT_ID_HEADER } from './headers.js';
import { sendAcked } from './producer.js';

export interface DeadLetter {
  /** Original bytes, untouched, so nothing is lost and it can be replayed after a fix. */
  value: Buffer | null;
  key: Buffer | null;
  reason: string;
  /** Catalogue code: AT_ERR_MESSAGE_POISON (not an event) or AT_ERR_CLICKHOUSE_REJECTED (refused row). */
  code: string;
  /** ClickHouse's own error code, when ClickHouse refused the row. */
  clickhouseCode?: string;
  source: { topic: string; partition: number; offset: string };
  eventId?: string;
}

/** Put poison messages on the dead-letter topic with their reason in headers (acks=all). */
export async function sendDeadLetters(
  producer: Producer,
  dlqTopic: string,
  letters: DeadLetter[],
): Promise<void> {
  await sendAcked(
    producer,
    dlqTopic,
    letters.map((l) => {
      const headers: IHeaders = {
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
