// Scenario generator: realistic, valid v1 task streams (seq + hash chain) for tests, demo and benchmarks.
export * from './builder.js';
export * from './catalogue.js';
export * from './fixtures.js';
