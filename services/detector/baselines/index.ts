export * from './baselines.js';
export * from './rate.js';
export * from './resource-class.js';
export * from './risk.js';
