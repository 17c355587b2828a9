import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Where kafkajs' own source files are, for the modules that replace some of them by faster,
// equal ones (lean-codecs.ts). Resolving a path loads nothing: these modules decide what kafkajs
// loads, and when, themselves.

/** CommonJS `require` from here: kafkajs' files, and the module cache they are kept in. */
export const kafkajsRequire = createRequire(import.meta.url);

/** kafkajs' `src/` folder. */
export const KAFKAJS_SRC = join(dirname(kafkajsRequire.resolve('kafkajs')), 'src');
