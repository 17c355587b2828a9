// Epoch milliseconds of an ISO-8601 UTC timestamp, as Date.parse gives them, faster for the one
// form every event carries (`YYYY-MM-DDTHH:MM:SS[.s{1,3}]Z`, schemas/events/envelope.ts): the
// detector parses two per event. Anything else, and days 29–31 (whose validity depends on the
// month), take Date.parse itself, so the result is always exactly Date.parse's.
// (Date.parse was a visible share of `npx tsx bench/detector-evaluate.bench.ts --profile`.)

const ZERO = 48;

function two(s: string, i: number): number {
  return (s.charCodeAt(i) - ZERO) * 10 + (s.charCodeAt(i + 1) - ZERO);
}

function digitsOk(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - ZERO;
    if (c < 0 || c > 9) return false;
  }
  return true;
}

/** Digit value of the char at i, or a value above 9 when it is no digit (unsigned wrap). */
function digit(s: string, i: number): number {
  return (s.charCodeAt(i) - ZERO) >>> 0;
}

export function parseIsoMs(s: string): number {
  const n = s.length;
  // The millisecond form toISOString writes, which the SDK and the gateway use: no loops.
  if (
    n === 24 &&
    s.charCodeAt(23) === 90 &&
    s.charCodeAt(19) === 46 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 84 &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58
  ) {
    const y0 = digit(s, 0);
    const y1 = digit(s, 1);
    const y2 = digit(s, 2);
    const y3 = digit(s, 3);
    const f0 = digit(s, 20);
    const f1 = digit(s, 21);
    const f2 = digit(s, 22);
    const mo = digit(s, 5) * 10 + digit(s, 6);
    const d = digit(s, 8) * 10 + digit(s, 9);
    const h = digit(s, 11) * 10 + digit(s, 12);
    const mi = digit(s, 14) * 10 + digit(s, 15);
    const sec = digit(s, 17) * 10 + digit(s, 18);
    // A non-digit makes its field huge (> 99), so the range checks below catch it.
    if (
      y0 > 9 ||
      y1 > 9 ||
      y2 > 9 ||
      y3 > 9 ||
      f0 > 9 ||
      f1 > 9 ||
      f2 > 9 ||
      mo < 1 ||
      mo > 12 ||
      d < 1 ||
      d > 28 ||
      h > 23 ||
      mi > 59 ||
      sec > 59
    ) {
      return Date.parse(s);
    }
    return utcMs(y0 * 1000 + y1 * 100 + y2 * 10 + y3, mo, d, h, mi, sec, f0 * 100 + f1 * 10 + f2);
  }
  if (
    n < 20 ||
    n > 24 ||
    s.charCodeAt(n - 1) !== 90 || // Z
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 || // T
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58 ||
    !digitsOk(s, 0, 4) ||
    !digitsOk(s, 5, 7) ||
    !digitsOk(s, 8, 10) ||
    !digitsOk(s, 11, 13) ||
    !digitsOk(s, 14, 16) ||
    !digitsOk(s, 17, 19)
  ) {
    return Date.parse(s);
  }
  let ms = 0;
  if (n > 20) {
    if (n === 21 || s.charCodeAt(19) !== 46 || !digitsOk(s, 20, n - 1)) return Date.parse(s);
    let scale = 100;
    for (let i = 20; i < n - 1; i++) {
      ms += (s.charCodeAt(i) - ZERO) * scale;
      scale /= 10;
    }
  }
  const y = two(s, 0) * 100 + two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  const sec = two(s, 17);
  if (mo < 1 || mo > 12 || d < 1 || d > 28 || h > 23 || mi > 59 || sec > 59) return Date.parse(s);
  return utcMs(y, mo, d, h, mi, sec, ms);
}

function utcMs(y: number, mo: number, d: number, h: number, mi: number, sec: number, ms: number): number {
  // Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  return ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms;
}
