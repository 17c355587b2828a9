export * from './baselines.js';
export * from './rate.js';
export * from './resource-class.js';
