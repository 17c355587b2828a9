import { SECRET_NAME_HINT } from './rules.js';

// Candidates for decoding: base64 runs and JSON text held in a string. This is on the per-event
// hot path, so each step is bounded and cheap tests come first: most strings never decode.

/**
 * Layers of encoding peeled off one string: a JSON string inside a JSON string is two, base64
 * inside that a third. Each layer's decoded text is no longer than its input, so a string costs
 * at most this many plain passes; 4 covers the layerings seen in real payloads.
 */
export const MAX_DECODE_DEPTH = 4;

/**
 * Largest candidate decoded, in characters. A valid event's whole `arguments` is at most 16 KiB
 * of JSON (schemas/events/action.ts), so every candidate in a valid event is decoded; the bound
 * stops a caller redacting unvalidated text from decoding megabytes per string.
 */
export const MAX_DECODE_CHARS = 16_384;

/**
 * Shortest base64 run tried: 12 characters decode to 9 bytes, the shortest `id:secret` worth
 * flagging (`ab:cdefgh`); every token format known is longer. Shorter runs are ordinary words.
 */
export const MIN_BASE64_CHARS = 12;

/** Deepest JSON nesting walked inside a string: deeper text keeps only the text rules (and would overflow the walk). */
export const MAX_JSON_NESTING = 32;

/** The base64 alphabet, standard and URL-safe. */
const isBase64Char = (c: number) =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  (c >= 48 && c <= 57) ||
  c === 43 ||
  c === 47 ||
  c === 95 ||
  c === 45;

/**
 * Base64 of ASCII text: each 4-character group starts with the top 6 bits of a byte below 0x80,
 * i.e. one of `A-Z a-f`. That rejects words, hex digests, UUIDs, paths and binary blobs without
 * decoding anything.
 */
function quadStartsAscii(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i += 4) {
    const c = text.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * [start, end) of each run of the base64 alphabet (plus padding) that could encode ASCII text
 * and is of plausible length. One pass, no allocation for strings without one: this runs on
 * every stored string.
 */
export function base64Candidates(text: string): Array<[number, number]> | undefined {
  let out: Array<[number, number]> | undefined;
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip to a run's end; most runs are words too short to matter.
    let j = i;
    while (j < n && isBase64Char(text.charCodeAt(j))) j++;
    const len = j - i;
    if (len >= MIN_BASE64_CHARS && len <= MAX_DECODE_CHARS && len % 4 !== 1 && quadStartsAscii(text, i, j)) {
      let end = j;
      while (end < n && end - j < 2 && text.charCodeAt(end) === 61) end++;
      out ??= [];
      out.push([i, end]);
      i = end;
    } else {
      i = j + 1;
    }
  }
  return out;
}

/** The text a base64 candidate encodes, when it is printable ASCII (all the secret formats are). */
export function decodeBase64Text(run: string): string | undefined {
  const bytes = Buffer.from(run, 'base64');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (!((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) return undefined;
  }
  return bytes.toString('latin1');
}

/**
 * `id:secret`, the form Basic authentication encodes. The secret part must hold something other
 * than letters, so encoded `Content-Type:text`-like pairs are not taken for credentials.
 */
const CREDENTIAL_PAIR = /^[A-Za-z0-9._@+-]{1,128}:(?=[\x21-\x7e]*[^A-Za-z])[\x21-\x7e]{6,}$/;
export const isCredentialPair = (s: string) => CREDENTIAL_PAIR.test(s);

/** Whether JSON text nests no deeper than `max` (strings skipped). Linear, no allocation. */
function nestingWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return false;
    } else if (c === 125 || c === 93) depth--;
  }
  return true;
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The object or array a string holds as JSON, when walking it could find more than the text rules
 * already did on the raw text. Without a backslash every key and string in the JSON appears
 * verbatim in the raw text, so only key-based field rules add anything, and they need a
 * secret-like key name in it: other strings are not parsed.
 */
export function jsonCandidate(text: string): object | undefined {
  if (text.length < 2 || text.length > MAX_DECODE_CHARS) return undefined;
  let a = 0;
  let b = text.length - 1;
  while (a < b && isSpace(text.charCodeAt(a))) a++;
  while (b > a && isSpace(text.charCodeAt(b))) b--;
  const open = text.charCodeAt(a);
  const close = text.charCodeAt(b);
  if (!((open === 123 && close === 125) || (open === 91 && close === 93))) return undefined;
  if (!text.includes('\\') && !SECRET_NAME_HINT.test(text)) return undefined;
  if (!nestingWithin(text, MAX_JSON_NESTING)) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}
