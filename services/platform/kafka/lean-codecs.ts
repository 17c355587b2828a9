// kafkajs' hottest codecs, replaced by faster ones that write and read the same bytes and return
// the same values: CRC-32C (crc32c.ts), the Produce request (produce-encoding.ts), the fetched
// record batches (record-batch-decoder.ts), and the framing of responses read from a connection
// (response-frames.ts). The first three put their functions in the CommonJS module cache under
// kafkajs' own file names, so this must be imported BEFORE anything that loads kafkajs: the first
// import of every service's main. Loaded later, each says so (`installed` false) and kafkajs keeps
// its own codecs, which are equal, only slower. The framing patches kafkajs' Connection prototype,
// which takes effect whenever it is loaded.
import './crc32c.js';
import './produce-encoding.js';
import './record-batch-decoder.js';
import './response-frames.js';
