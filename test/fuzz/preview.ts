import { isUtf8 } from 'node:buffer';

// Printable, bounded forms of fuzz inputs for failure reports: a counterexample may hold a
// 100 KB string, 20,000 levels of nesting or bytes that are not UTF-8.

/**
 * Repeats of a unit of up to 8 characters (`x`, an escaped `\ud800`, `{"a":`) become `(u×n)`;
 * controls and lone surrogates are written `\uXXXX`; at most `max` characters.
 */
export function preview(s: string, max = 600): string {
  const text = visible(s);
  let out = '';
  let i = 0;
  while (i < text.length && out.length < max) {
    let best = { k: 1, n: 1 };
    for (let k = 1; k <= 8 && i + 2 * k <= text.length; k++) {
      const u = text.slice(i, i + k);
      let n = 1;
      while (text.startsWith(u, i + n * k)) n++;
      if (n * k > best.n * best.k && n * k >= 24) best = { k, n };
    }
    if (best.n > 1) {
      out += `(${text.slice(i, i + best.k)}×${best.n})`;
      i += best.k * best.n;
    } else {
      out += text[i];
      i++;
    }
  }
  return i < text.length ? `${out}…(${s.length} chars)` : out;
}

/** Controls, lone surrogates and line separators as `\uXXXX`; everything else as is. */
function visible(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (pair) {
      out += s.slice(i, i + 2);
      i++;
    } else if (
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      c === 0x2028 ||
      c === 0x2029 ||
      (c & 0xf800) === 0xd800
    ) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** As text, with each byte that starts no valid UTF-8 sequence written `\xNN`. */
export function previewBytes(b: Buffer, max = 600): string {
  if (isUtf8(b)) return preview(b.toString('utf8'), max);
  let text = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    const seq = b.subarray(i, i + n);
    if (c >= 0xc2 && c < 0xf5 && seq.length === n && isUtf8(seq)) {
      text += seq.toString('utf8');
      i += n;
    } else if (c < 0x80) {
      text += String.fromCharCode(c);
      i++;
    } else {
      text += `\\x${c.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return `(not UTF-8) ${preview(text, max)}`;
}

/** A spec as JSON with every string previewed. */
export function previewSpec(spec: unknown): string {
  return JSON.stringify(spec, (_k, v) => {
    if (typeof v === 'string') return preview(v, 120);
    if (v instanceof Uint8Array) return previewBytes(Buffer.from(v), 120);
    return v;
  });
}
