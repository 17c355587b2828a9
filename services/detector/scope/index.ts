export * from '../../platform/glob.js';
export * from './approval.js';
export * from './compile.js';
export * from './evaluate.js';
export * from './learn.js';
export * from './subscope.js';
