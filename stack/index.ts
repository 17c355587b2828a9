// Public API of the local stack: the CLI, the tests' global setup, the demo and the
// benchmarks import from here, never from the individual modules.
export type { ClickHouseHandle, ClickHouseOptions } from './clickhouse.js';
export { clickhouseHealthy, startClickHouse } from './clickhouse.js';
export type { KafkaHandle, KafkaOptions } from './kafka.js';
export { kafkaHealthy, startKafka } from './kafka.js';
export { defaultStateDir, type Log } from './paths.js';
export { isPortFree, randomFreePort } from './ports.js';
export type { PartState, StackEndpoints, StackOptions, StackPart, StackStatus } from './stack.js';
export { stackDown, stackStatus, stackUp } from './stack.js';
