import type { EventRow } from '../platform/clickhouse/event-row.js';
import { decodeEventMessage, type Poison, schemaPoison } from '../platform/kafka/event-message.js';
import type { StageMessage } from '../platform/kafka/runner.js';
import { toLine, toRow } from './rows.js';
import { trustedLine } from './trusted.js';

// One Kafka message → the row's JSONCompactEachRow line, or why it is poison (the one decoder
// and vocabulary, platform/kafka/event-message.ts). A message with the gateway's mark gets the
// structural check of what becomes a column (trusted.ts); the rest, the full schema.

export type DecodedLine = { ok: true; line: string; eventId: string } | Poison;
export type Decoded = { ok: true; row: EventRow } | Poison;

const trust = (json: unknown, m: StageMessage) => {
  const line = trustedLine(json, Number(m.timestamp));
  return line === undefined ? undefined : { line, eventId: (json as { event_id: string }).event_id };
};

/** The loop's decoder: marked messages on trust, the rest through the full schema. */
export function decodeLine(m: StageMessage): DecodedLine {
  const d = decodeEventMessage(m, trust);
  if (!d.ok) return d;
  if (d.trusted) return { ok: true, line: d.trusted.line, eventId: d.trusted.eventId };
  try {
    const row = toRow(d.event, Number(m.timestamp));
    return { ok: true, line: toLine(row), eventId: row.event_id };
  } catch (err) {
    return schemaPoison((err as Error).message, d.event);
  }
}

/** The full-schema path alone (unmarked messages; tests). */
export function decodeMessage(value: Buffer | null, kafkaTimestampMs: number): Decoded {
  const d = decodeEventMessage({ value });
  if (!d.ok) return d;
  try {
    return { ok: true, row: toRow(d.event!, kafkaTimestampMs) };
  } catch (err) {
    return schemaPoison((err as Error).message, d.event);
  }
}
