// Shared secret redaction and entity fingerprinting (pure; used by the gateway and the SDK).
export { type EntityHit, type EntityKind, extractEntities } from './entities.js';
export {
  createFingerprinter,
  FINGERPRINT_HEX_CHARS,
  type FingerprintKey,
  fingerprint,
} from './fingerprint.js';
export {
  Fingerprinter,
  PLACEHOLDER_PREFIX,
  placeholder,
  type RedactOptions,
  type RedactResult,
  redactEvent,
  redactText,
  type Sighting,
} from './redact.js';
export { entropy, SECRET_KINDS } from './rules.js';
