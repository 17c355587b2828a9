// Text bounds for everything the SDK records. Every cut goes through `truncate`, which cuts only
// between code points: `slice(0, n)` can keep the first half of a surrogate pair, a string that
// is not well-formed Unicode, which the gateway refuses (422) and ClickHouse cannot store.

export const ELLIPSIS = '…';

export interface TextLimits {
  /** Most UTF-16 code units (`string.length`, what the schema's `.max()` counts). */
  maxLength?: number;
  /** Most UTF-8 bytes. */
  maxBytes?: number;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** UTF-8 bytes of the code point starting at `i`, and its UTF-16 length (a lone surrogate: 3 bytes, as U+FFFD). */
function codePointAt(s: string, i: number): { units: number; bytes: number } {
  const c = s.charCodeAt(i);
  if (c < 0x80) return { units: 1, bytes: 1 };
  if (c < 0x800) return { units: 1, bytes: 2 };
  if (isHigh(c) && isLow(s.charCodeAt(i + 1))) return { units: 2, bytes: 4 };
  return { units: 1, bytes: 3 };
}

/** Longest prefix (in code units) that fits both budgets and ends on a code point boundary. */
function prefixEnd(s: string, maxLength: number, maxBytes: number): number {
  if (maxBytes === Number.POSITIVE_INFINITY) {
    const end = Math.max(0, Math.min(s.length, maxLength));
    // Never end between the two halves of a pair.
    return end > 0 && isHigh(s.charCodeAt(end - 1)) && isLow(s.charCodeAt(end)) ? end - 1 : end;
  }
  let end = 0;
  let bytes = 0;
  while (end < s.length) {
    const cp = codePointAt(s, end);
    if (end + cp.units > maxLength || bytes + cp.bytes > maxBytes) break;
    end += cp.units;
    bytes += cp.bytes;
  }
  return end;
}

/**
 * Cut `text` to fit `limits`, on a code point boundary, ending in `marker` when cut (the marker
 * counts against the limits; when even it does not fit, the cut has none). Fitting text is
 * returned as is.
 */
export function truncate(text: string, limits: TextLimits, marker = ELLIPSIS): string {
  const maxLength = limits.maxLength ?? Number.POSITIVE_INFINITY;
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  if (text.length <= maxLength && (maxBytes === Number.POSITIVE_INFINITY || utf8Bytes(text) <= maxBytes)) {
    return text;
  }
  const markerBytes = utf8Bytes(marker);
  if (marker.length > maxLength || markerBytes > maxBytes) {
    return text.slice(0, prefixEnd(text, maxLength, maxBytes));
  }
  return text.slice(0, prefixEnd(text, maxLength - marker.length, maxBytes - markerBytes)) + marker;
}

/**
 * Like `truncate`, for free text that may hold secrets (tool output): when cut, the trailing
 * partial word is dropped too, because a token cut in half no longer matches its redaction
 * pattern, and half a secret is still a leak.
 */
export function truncateWords(text: string, limits: TextLimits): string {
  const cut = truncate(text, limits, '');
  if (cut === text) return text;
  const room = {
    maxLength: (limits.maxLength ?? Number.POSITIVE_INFINITY) - ELLIPSIS.length,
    maxBytes: (limits.maxBytes ?? Number.POSITIVE_INFINITY) - utf8Bytes(ELLIPSIS),
  };
  if (room.maxLength < 0 || room.maxBytes < 0) return '';
  return `${truncate(text, room, '').replace(/\S+$/, '')}${ELLIPSIS}`;
}

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

export function isWellFormed(s: string): boolean {
  return s.isWellFormed();
}

/** Each lone surrogate replaced by U+FFFD (what a UTF-8 encoder writes for it anyway). */
export function toWellFormed(s: string): string {
  return s.toWellFormed();
}
