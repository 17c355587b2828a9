// The AgentTrail agent SDK. See README "Agent SDK" for the chain, batching and buffer policy.
export { DEFAULT_RETRY, type RetryOptions } from './backoff.js';
export {
  type AgentTrail,
  type AgentTrailOptions,
  createAgentTrail,
  type DeclareTaskInput,
} from './client.js';
export * from './errors.js';
export { sealEvent, type WireEvent } from './seal.js';
export type { EventExtras, Recorded, TaskHandle } from './task.js';
export { type HttpTransportOptions, httpTransport, type SendResult, type Transport } from './transport.js';
export type { WrapToolOptions } from './wrap-tool.js';
