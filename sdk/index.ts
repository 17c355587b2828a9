// The AgentTrail agent SDK. See README "Agent SDK" for the chain, batching and buffer policy.
export { DEFAULT_RETRY, type RetryOptions } from './backoff.js';
export {
  type AgentTrail,
  type AgentTrailOptions,
  createAgentTrail,
  DEFAULT_MAX_BATCH_BYTES,
  type DeclareTaskInput,
} from './client.js';
export * from './errors.js';
export type { ClientStats, SdkLogger } from './report.js';
export { sealEvent, type WireEvent } from './seal.js';
export type { TargetMapping } from './targets.js';
export type { EventExtras, Recorded, TaskHandle } from './task.js';
export { type HttpTransportOptions, httpTransport, type SendResult, type Transport } from './transport.js';
export type { WrapToolOptions } from './wrap-tool.js';
