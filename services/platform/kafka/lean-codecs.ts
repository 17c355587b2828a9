// kafkajs' hottest codecs, replaced by faster ones that write and read the same bytes and return
// the same values: CRC-32C (crc32c.ts), the Produce request (produce-encoding.ts) and the fetched
// record batches (record-batch-decoder.ts). Each puts its functions in the CommonJS module cache
// under kafkajs' own file names, so this must be imported BEFORE anything that loads kafkajs: the
// first import of every service's main. Loaded later, each says so (`installed` false) and kafkajs
// keeps its own codecs, which are equal, only slower.
import './crc32c.js';
import './produce-encoding.js';
import './record-batch-decoder.js';
