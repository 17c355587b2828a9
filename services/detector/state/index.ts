export * from './apply.js';
export * from './changes.js';
export * from './ids.js';
export * from './intern.js';
export * from './order.js';
export * from './types.js';
