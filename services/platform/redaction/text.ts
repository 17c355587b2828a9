import { breaksWithin, type JoinedView, originalOffset } from './joins.js';
import { PLACEHOLDER_PREFIX, placeholder } from './placeholder.js';
import { hintedRules, PRECHECK, TEXT_RULES, type TextRule } from './rules.js';

// The text rules applied to one string, and the same token rules applied across line breaks.

export type OnSecret = (kind: string, value: string) => void;

/** A stretch of the original text to replace with `placeholder(kind)`, and the secrets it held. */
export interface Span {
  start: number;
  end: number;
  kind: string;
  found: Array<[kind: string, value: string]>;
}

/** Every text rule, in order, over `text`. `onSecret` receives each secret removed. */
export function applyRules(text: string, onSecret?: OnSecret): string {
  if (!PRECHECK.test(text)) return text;
  // Hints are looked for once, in the text as given: a replacement only removes a secret (and
  // its hint with it), and a rule whose hint has gone cannot match, so the result is the same.
  const hinted = hintedRules(text);
  let out = text;
  for (let i = 0; i < TEXT_RULES.length; i++) {
    if ((hinted & (1 << i)) === 0) continue;
    const rule = TEXT_RULES[i]!;
    // Most hinted text holds no match (a URL without a password): `test` says so at about half
    // the cost of a `replace` that finds nothing. A failed `test` leaves lastIndex at 0.
    rule.pattern.lastIndex = 0;
    if (!rule.pattern.test(out)) continue;
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = args[args.length - 1] as Record<string, string | undefined>;
      const secret = groups.secret ?? match;
      // Never re-redact a placeholder: keeps redaction idempotent.
      if (secret.includes(PLACEHOLDER_PREFIX) || secret.length === 0) return match;
      if (rule.accept && !rule.accept(secret)) return match;
      onSecret?.(rule.kind, secret.trim());
      return `${groups.pre ?? ''}${placeholder(rule.kind)}`;
    });
  }
  return out;
}

/** Joinable rules with match indices (`d`), compiled once; only text with line breaks uses them. */
const JOINABLE = TEXT_RULES.flatMap((rule, i) =>
  rule.joinable ? [{ rule, bit: 1 << i, re: new RegExp(rule.pattern.source, `${rule.pattern.flags}d`) }] : [],
);

/**
 * Continuation of a token rather than the next line's first word: a digit or base64 symbol, or
 * mixed case past the first letter (`Next`, `LOG`, `export` are words; random tails are not).
 */
const tokenLike = (s: string) => /[0-9+/=]/.test(s) || (/[A-Z]/.test(s.slice(1)) && /[a-z]/.test(s));

/**
 * Whether a match that crosses breaks is one wrapped token. When the part before the first break
 * is not a token by itself, only the join makes it one: accept. When it is, the rule may simply
 * have run on into the next line (`ghp_…\nexport`, `…\nLOG=debug`), so each continuation must
 * look like token material and must not be the name of a `name=value` or `name: value` line.
 */
function wrapped(rule: TextRule, joined: string, start: number, end: number, breaks: number[]): boolean {
  rule.pattern.lastIndex = 0;
  const headAlone = rule.pattern.test(joined.slice(start, breaks[0]));
  rule.pattern.lastIndex = 0;
  if (!headAlone) return true;
  if (/[=:]/.test(joined.charAt(end))) return false;
  for (let i = 0; i < breaks.length; i++) {
    if (!tokenLike(joined.slice(breaks[i], breaks[i + 1] ?? end))) return false;
  }
  return true;
}

/** Token-rule matches that exist only across a line break, as spans of the original text. */
export function tokenSpansAcrossBreaks(view: JoinedView, out: Span[]): void {
  const joined = view.text;
  if (!PRECHECK.test(joined)) return;
  const hinted = hintedRules(joined);
  for (const { rule, bit, re } of JOINABLE) {
    if ((hinted & bit) === 0) continue;
    re.lastIndex = 0;
    for (let m = re.exec(joined); m !== null; m = re.exec(joined)) {
      if (m[0].length === 0) re.lastIndex++;
      const [start, end] = m.indices?.groups?.secret ?? m.indices![0]!;
      const breaks = breaksWithin(view, start, end);
      if (breaks.length === 0) continue; // the ordinary pass sees it
      const secret = joined.slice(start, end);
      if (secret.includes(PLACEHOLDER_PREFIX)) continue;
      if (rule.accept && !rule.accept(secret)) continue;
      if (!wrapped(rule, joined, start, end, breaks)) continue;
      out.push({
        start: originalOffset(view, start, false),
        end: originalOffset(view, end, true),
        kind: rule.kind,
        found: [[rule.kind, secret]],
      });
    }
  }
}

/** Replace spans (earliest first; one overlapping an earlier one is dropped), reporting their secrets. */
export function applySpans(text: string, spans: Span[], onSecret?: OnSecret): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let last = 0;
  for (const s of spans) {
    if (s.start < last) continue;
    if (onSecret) for (const [kind, value] of s.found) onSecret(kind, value);
    out += text.slice(last, s.start) + placeholder(s.kind);
    last = s.end;
  }
  return out + text.slice(last);
}
