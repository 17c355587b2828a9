// The AgentTrail v1 contract: zod schemas, no I/O. Services and collectors import from here.
export * from './alert.js';
export * from './alert-status.js';
export * from './chain.js';
export * from './common.js';
export * from './events/index.js';
export * from './route.js';
export * from './rule.js';
export * from './scope.js';
export * from './validate.js';
