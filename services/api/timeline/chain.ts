import { hashMatches } from '../../platform/chain-hash.js';

// The hash chain of one task, verified server-side as events stream past in seq order (the
// timeline reads them all, an export one at a time: same code, same verdict), with a verdict
// sentence a responder can quote. The checks are schemas/chain.ts verifyChain's (a test holds
// them equal); what this adds is naming the gaps as seq ranges, telling a link broken by a
// gap (expected: the event in between is missing) from a link broken by an edit, and wording.

export type ChainStatus = 'verified' | 'incomplete' | 'tampered' | 'incomplete_and_tampered' | 'empty';

export interface ChainVerdict {
  status: ChainStatus;
  /** True only for `verified`. */
  ok: boolean;
  events: number;
  first_seq: number | null;
  last_seq: number | null;
  /** Missing seq ranges, inclusive (a gap before the first stored event starts at 1). */
  gaps: Array<{ from: number; to: number }>;
  /** Events whose content does not hash to their stored hash (altered after recording). */
  altered: number[];
  /** Events whose prev_hash does not name the stored event before them (with no gap between). */
  broken_links: number[];
  /** Events stored without a hash (the collector did not chain them). */
  unhashed: number[];
  /** Stored rows that could not be rebuilt into an event (counted, never hashed). */
  unreadable: number;
  ended: boolean;
  /** One paragraph a responder can quote. */
  sentence: string;
}

export interface ChainInput {
  seq: number;
  hash?: string | null;
  prev_hash?: string | null;
  type?: unknown;
  [k: string]: unknown;
}

export class ChainVerifier {
  private count = 0;
  private first: number | null = null;
  private last: number | null = null;
  private prevHash: string | undefined;
  private readonly gaps: Array<{ from: number; to: number }> = [];
  private readonly altered: number[] = [];
  private readonly broken: number[] = [];
  private readonly unhashed: number[] = [];
  private unreadable = 0;
  private ended = false;

  constructor(private readonly taskId: string) {}

  /** The next stored event, in seq order. */
  add(event: ChainInput): void {
    const seq = event.seq;
    const expected = this.last === null ? 1 : this.last + 1;
    const gapBefore = seq > expected;
    if (gapBefore) this.gaps.push({ from: expected, to: seq - 1 });
    if (!event.hash) this.unhashed.push(seq);
    else if (!hashMatches(event)) this.altered.push(seq);
    const prev = event.prev_hash ?? undefined;
    // After a gap the link is to an event we do not have: the gap already says so.
    if (!gapBefore && prev !== this.prevHash) this.broken.push(seq);
    if (event.type === 'task.ended') this.ended = true;
    this.prevHash = event.hash ?? undefined;
    this.first ??= seq;
    this.last = seq;
    this.count++;
  }

  /** A stored row that did not rebuild into an event. */
  addUnreadable(): void {
    this.unreadable++;
  }

  verdict(): ChainVerdict {
    const tampered = this.altered.length + this.broken.length + this.unhashed.length + this.unreadable > 0;
    const incomplete = this.gaps.length > 0;
    const status: ChainStatus =
      this.count === 0 && this.unreadable === 0
        ? 'empty'
        : tampered && incomplete
          ? 'incomplete_and_tampered'
          : tampered
            ? 'tampered'
            : incomplete
              ? 'incomplete'
              : 'verified';
    const v: Omit<ChainVerdict, 'sentence'> = {
      status,
      ok: status === 'verified',
      events: this.count,
      first_seq: this.first,
      last_seq: this.last,
      gaps: [...this.gaps],
      altered: [...this.altered],
      broken_links: [...this.broken],
      unhashed: [...this.unhashed],
      unreadable: this.unreadable,
      ended: this.ended,
    };
    return { ...v, sentence: verdictSentence(this.taskId, v) };
  }
}

const seqList = (xs: readonly number[]) =>
  xs.length <= 10 ? xs.join(', ') : `${xs.slice(0, 10).join(', ')} and ${xs.length - 10} more`;
const rangeList = (gs: ReadonlyArray<{ from: number; to: number }>) =>
  seqList(gs.map((g) => g.from)).length > 0
    ? gs
        .slice(0, 10)
        .map((g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`))
        .join(', ') + (gs.length > 10 ? ` and ${gs.length - 10} more ranges` : '')
    : '';

export function verdictSentence(taskId: string, v: Omit<ChainVerdict, 'sentence'>): string {
  if (v.status === 'empty') return `Task ${taskId}: no stored events; nothing can be verified.`;
  const missing = v.gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
  const span = `seq ${v.first_seq}-${v.last_seq}`;
  const parts: string[] = [];
  if (v.status === 'verified') {
    parts.push(
      `Task ${taskId}: VERIFIED. All ${v.events} events (${span}) are stored with no gap, and every SHA-256 hash and prev_hash link recomputes from the stored content (schemas/chain.ts): the record is complete and untampered as stored.`,
    );
  } else {
    const label =
      v.status === 'incomplete'
        ? 'INCOMPLETE'
        : v.status === 'tampered'
          ? 'TAMPERED'
          : 'INCOMPLETE AND TAMPERED';
    parts.push(`Task ${taskId}: ${label}. ${v.events} events are stored (${span}).`);
    if (missing > 0)
      parts.push(
        `${missing} event${missing === 1 ? ' is' : 's are'} missing (seq ${rangeList(v.gaps)}): what the agent did there is not in the record.`,
      );
    if (v.altered.length > 0)
      parts.push(
        `The content of seq ${seqList(v.altered)} does not match ${v.altered.length === 1 ? 'its' : 'their'} recorded hash: altered after it was recorded.`,
      );
    if (v.broken_links.length > 0)
      parts.push(
        `Seq ${seqList(v.broken_links)} ${v.broken_links.length === 1 ? 'does' : 'do'} not link to the event stored before ${v.broken_links.length === 1 ? 'it' : 'them'} (prev_hash): an event was replaced, removed or reordered.`,
      );
    if (v.unhashed.length > 0) parts.push(`Seq ${seqList(v.unhashed)} carry no hash and cannot be verified.`);
    if (v.unreadable > 0) parts.push(`${v.unreadable} stored row(s) could not be read back as events.`);
    if (v.status === 'incomplete')
      parts.push('Every stored event hashes correctly; links across the gaps cannot be checked.');
  }
  parts.push(
    v.ended
      ? 'The task recorded its end.'
      : 'The task has not recorded its end, so events after the last stored one may be missing or still to come.',
  );
  return parts.join(' ');
}
