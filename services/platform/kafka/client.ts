import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from '../logger.js';

/**
 * The client a stage holds. Only `services/platform/kafka/` uses its API (runner, producer,
 * admin helpers), so swapping the client is a change in this folder alone.
 */
export type KafkaClient = Kafka;

export interface KafkaSettings {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID: string;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs with its log lines routed to the service's pino logger (child `component=kafka`). */
export function createKafka(settings: KafkaSettings, logger: Logger, clientSuffix?: string): KafkaClient {
  const log = logger.child({ component: 'kafka' });
  return new Kafka({
    clientId: clientSuffix ? `${settings.KAFKA_CLIENT_ID}-${clientSuffix}` : settings.KAFKA_CLIENT_ID,
    brokers: settings.KAFKA_BROKERS,
    // kafkajs' INFO is chatty (every group join); keep WARN and above.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info'](rest, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
