export * from './approval.js';
export * from './compile.js';
export * from './evaluate.js';
export * from './glob.js';
export * from './subscope.js';
