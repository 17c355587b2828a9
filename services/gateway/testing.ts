import { AgentTrailError } from '../platform/errors.js';
import type { AppConfig } from './config.js';
import type { EventSink, SinkMessage } from './sink.js';

/** For tests that build the gateway app: small limits, so tests reach them cheaply. */
export const TEST_APP_CONFIG: AppConfig = {
  GATEWAY_FINGERPRINT_KEY: 'unit-test-fingerprint-key',
  GATEWAY_METRICS_TOKEN: undefined,
  GATEWAY_MAX_BODY_BYTES: 64 * 1024,
  GATEWAY_MAX_BATCH_EVENTS: 50,
  GATEWAY_RATE_LIMIT_EVENTS_PER_S: 1000,
  GATEWAY_RATE_LIMIT_BURST_EVENTS: 100,
  GATEWAY_PRODUCE_TIMEOUT_MS: 1000,
  GATEWAY_RETRY_AFTER_S: 7,
};

/** A produced message as tests read it: the stored value decoded to text. */
export type ProducedMessage = Omit<SinkMessage, 'value'> & { value: string };

/** A sink that keeps what it is given, or fails like Kafka (`fail`) or like a bug (`crash`). */
export class FakeSink implements EventSink {
  produced: ProducedMessage[] = [];
  fail = false;
  /** Throw an unexpected error (a bug), not a catalogue one. */
  crash = false;
  async produce(messages: SinkMessage[]) {
    if (this.crash) throw new Error('boom');
    if (this.fail)
      throw new AgentTrailError('AT_ERR_KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the events');
    for (const m of messages) this.produced.push({ ...m, value: m.value.toString('utf8') });
  }
  ready = () => !this.fail;
}
