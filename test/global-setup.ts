import type { TestProject } from 'vitest/node';
import { type StackEndpoints, stackDown, stackUp } from '../stack/index.js';

// Endpoints reach the test files through provide/inject (see helpers/stack.ts), which
// works whatever the pool (forks, threads) and however workers are (re)spawned.
declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    clickhouseUrl: string;
  }
}

/**
 * Integration tests run against real engines: reuse the developer's running stack, start
 * one if none runs, or use KAFKA_BROKERS / CLICKHOUSE_URL when given (CI with a cluster).
 * Only what this run started is stopped afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const endpoints: StackEndpoints = await stackUp();
  project.provide('kafkaBrokers', endpoints.kafka.brokers);
  project.provide('clickhouseUrl', endpoints.clickhouse.url);
  // Also export them for code under test that reads its config from the environment.
  process.env.KAFKA_BROKERS = endpoints.kafka.brokers.join(',');
  process.env.CLICKHOUSE_URL = endpoints.clickhouse.url;

  return async () => {
    if (endpoints.started.length > 0) await stackDown({ only: endpoints.started });
  };
}
