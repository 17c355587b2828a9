// A token hard-wrapped onto the next line (terminal width, log folding, MIME base64) no longer
// matches its pattern, and both halves leak. The joined view is the text with such line breaks
// removed, with what is needed to map a match in it back onto the original text.

/** Characters a token can end a line with (`=` ends base64) and start the next with. */
const endsToken = (c: number) =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  (c >= 48 && c <= 57) ||
  c === 95 ||
  c === 43 ||
  c === 47 ||
  c === 61 ||
  c === 46 ||
  c === 45;
/**
 * The next line must not start with `-`: that is a list bullet or a `--` separator far more
 * often than a token's continuation, and gluing it on spoils the base64 run before it.
 */
const startsToken = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 43 || c === 47;

export interface JoinedView {
  text: string;
  /** Offset in `text` of each removed break, ascending. */
  at: number[];
  /** Characters removed by breaks 0..i, cumulative. */
  removed: number[];
}

/** The text with each line break between token characters (`\r?\n` plus indentation) removed. */
export function joinedView(text: string): JoinedView | undefined {
  let nl = text.indexOf('\n');
  if (nl === -1) return undefined;
  const at: number[] = [];
  const removed: number[] = [];
  const parts: string[] = [];
  let last = 0;
  let joinedLength = 0;
  let total = 0;
  for (; nl !== -1; nl = text.indexOf('\n', nl + 1)) {
    const from = nl > 0 && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    let to = nl + 1;
    while (to < text.length && (text.charCodeAt(to) === 32 || text.charCodeAt(to) === 9)) to++;
    if (
      from === 0 ||
      to >= text.length ||
      !endsToken(text.charCodeAt(from - 1)) ||
      !startsToken(text.charCodeAt(to))
    ) {
      continue;
    }
    parts.push(text.slice(last, from));
    joinedLength += from - last;
    at.push(joinedLength);
    total += to - from;
    removed.push(total);
    last = to;
  }
  if (at.length === 0) return undefined;
  parts.push(text.slice(last));
  return { text: parts.join(''), at, removed };
}

/** Index of the first break at or after joined offset `pos` (binary search: texts can hold many lines). */
function firstBreakFrom(view: JoinedView, pos: number): number {
  let lo = 0;
  let hi = view.at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (view.at[mid]! < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Original offset of joined offset `pos`: a start lands after a break removed there, an end before it. */
export function originalOffset(view: JoinedView, pos: number, isEnd: boolean): number {
  let i = firstBreakFrom(view, pos);
  if (!isEnd && view.at[i] === pos) i++;
  return pos + (i === 0 ? 0 : view.removed[i - 1]!);
}

/** Joined offsets of the breaks strictly inside [start, end). */
export function breaksWithin(view: JoinedView, start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = firstBreakFrom(view, start + 1); i < view.at.length && view.at[i]! < end; i++) {
    out.push(view.at[i]!);
  }
  return out;
}
