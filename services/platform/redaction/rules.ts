// The secret formats the redactor knows, as data. Each text rule is a precompiled global regex
// whose `secret` group is the part replaced (the `pre` group, when present, is kept so the
// reader still sees `Authorization: Bearer [REDACTED:auth_header]`). `hints` are cheap
// substring tests run before the regex: most strings contain none of them, so most strings
// never reach a regex at all.
//
// Rules run in order, and a later rule never sees an earlier one's secret: a placeholder
// (`[REDACTED:kind]`) matches no pattern, and matches that would swallow one are refused.
// That makes redaction idempotent, which the hash chain depends on (see redact.ts).
//
// Key-value patterns accept the key's quotes escaped any number of times (`\"password\":\"…`):
// JSON nested in a JSON string, and excerpts of it cut off by truncation, which no parser reads.

export interface TextRule {
  kind: string;
  /** At least one must occur in the text (lower-cased first when `hintsLower`). */
  hints: readonly string[];
  hintsLower?: boolean;
  pattern: RegExp;
  /** Extra check on the captured secret, for patterns that also match ordinary words. */
  accept?: (secret: string) => boolean;
  /**
   * A fixed-format token (known prefix, no separators) that may be looked for across a line
   * break (joins.ts). Key-value rules are not: their value ends at the line's end.
   */
  joinable?: boolean;
}

/** Field rules look at the key a string sits under (`password`, `api_key`…), not its shape. */
export interface FieldRule {
  kind: string;
  /** Tested against the key lower-cased with `-`, `_`, `.` and spaces removed. */
  name: RegExp;
  accept: (value: string) => boolean;
}

/** Shannon entropy in bits per character: ~4+ for random tokens, ~2.5-3.2 for English words. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

const highEntropy = (s: string) => s.length >= 12 && !/\s/.test(s) && entropy(s) >= 3;

/** `Basic` credentials must decode to `user:password`, or prose like "Basic functionality" matches. */
function isBasicCredential(s: string): boolean {
  if (!/^[A-Za-z0-9+/]+=*$/.test(s)) return false;
  const decoded = Buffer.from(s, 'base64').toString('utf8');
  return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded);
}

export const TEXT_RULES: readonly TextRule[] = [
  {
    kind: 'private_key',
    hints: ['PRIVATE KEY'],
    // A truncated excerpt may hold a BEGIN without its END: redact to the end of the text.
    pattern:
      /-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?<secret>[\s\S]*?)(?:-----END[ A-Z0-9]*PRIVATE KEY-----|$)/g,
  },
  {
    kind: 'jwt',
    joinable: true,
    hints: ['eyJ'],
    pattern: /\b(?<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)/g,
  },
  {
    kind: 'aws_access_key_id',
    joinable: true,
    hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    pattern: /\b(?<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b/g,
  },
  {
    kind: 'aws_secret_access_key',
    hints: ['aws'],
    hintsLower: true,
    pattern:
      /(?<pre>\baws_?secret_?(?:access_?)?key\b(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?)(?<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
  },
  {
    kind: 'github_token',
    joinable: true,
    hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    pattern: /\b(?<secret>gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
  },
  {
    kind: 'gitlab_token',
    joinable: true,
    hints: ['glpat-'],
    pattern: /\b(?<secret>glpat-[A-Za-z0-9_-]{20,})/g,
  },
  {
    kind: 'slack_token',
    joinable: true,
    hints: ['xox'],
    pattern: /\b(?<secret>xox[abposr]-[A-Za-z0-9-]{10,})/g,
  },
  {
    kind: 'slack_webhook',
    hints: ['hooks.slack.com'],
    pattern: /(?<pre>https:\/\/hooks\.slack\.com\/services\/)(?<secret>[A-Za-z0-9/_-]{8,})/g,
  },
  {
    kind: 'stripe_key',
    joinable: true,
    hints: ['_live_', '_test_'],
    pattern: /\b(?<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})/g,
  },
  {
    kind: 'anthropic_key',
    joinable: true,
    hints: ['sk-ant-'],
    pattern: /\b(?<secret>sk-ant-[A-Za-z0-9_-]{20,})/g,
  },
  {
    kind: 'openai_key',
    joinable: true,
    hints: ['sk-'],
    pattern: /\b(?<secret>sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})/g,
  },
  { kind: 'npm_token', joinable: true, hints: ['npm_'], pattern: /\b(?<secret>npm_[A-Za-z0-9]{36})\b/g },
  {
    kind: 'google_api_key',
    joinable: true,
    hints: ['AIza'],
    pattern: /\b(?<secret>AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g,
  },
  {
    kind: 'url_password',
    hints: ['://'],
    // scheme://user:PASSWORD@host — database URLs, proxies, git remotes. Passwords are often
    // left unencoded, `/`, `+` and `@` included: the password runs to the LAST `@` that is
    // followed by a host (and port) ending the authority. Bounded, so no input backtracks far.
    pattern:
      /(?<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s:/@?#"'<>\\]*:)(?<secret>[^\s"'<>\\]{1,256})(?=@[A-Za-z0-9.-]+(?::\d+)?(?:[/?#\s"'<>\\,;)\]}]|$))/g,
    // `host:8443/@scope/pkg` is a port and a path, not `user:password@`.
    accept: (s) => !/^\d{1,5}[/?#]/.test(s),
  },
  {
    kind: 'auth_header',
    hints: ['bearer', 'basic'],
    hintsLower: true,
    pattern: /(?<pre>\b(?<scheme>Bearer|Basic)\s+)(?<secret>[A-Za-z0-9._~+/=-]{8,})/gi,
    accept: (s) =>
      (/\d/.test(s) && s.length >= 8) || (s.length >= 16 && entropy(s) >= 3) || isBasicCredential(s),
  },
  {
    kind: 'password',
    hints: ['pass', 'pwd'],
    hintsLower: true,
    // `password=…`, `"password": "…"`, and connection strings (`Server=…;Password=…;`).
    pattern:
      /(?<pre>\b(?:password|passwd|passphrase|pwd)\b(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?)(?<secret>(?:[^\s"'&,;\\]|\\(?!\\*["']))+)/gi,
  },
  {
    kind: 'generic_secret',
    hints: ['key', 'secret', 'token'],
    hintsLower: true,
    pattern:
      /(?<pre>\b(?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|(?:access|auth|refresh|session)[_-]?token|token)\b(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?)(?<secret>(?:[^\s"'&,;\\]|\\(?!\\*["'])){12,})/gi,
    accept: highEntropy,
  },
];

export const FIELD_RULES: readonly FieldRule[] = [
  {
    kind: 'aws_secret_access_key',
    name: /awssecret/,
    accept: (v) => /^[A-Za-z0-9/+=]{40}$/.test(v),
  },
  {
    // Any non-empty value under a password-like key is a password, whatever its entropy.
    kind: 'password',
    name: /password|passwd|passphrase|^pwd$/,
    accept: (v) => v.length > 0,
  },
  {
    kind: 'generic_secret',
    name: /secret|token|apikey|accesskey|privatekey|credential|authorization|cookie|sessionid|signature|^auth$/,
    accept: highEntropy,
  },
];

const escapeRe = (h: string) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One cheap test for "could any text rule apply?"; built from the rules' hints. */
export const PRECHECK = new RegExp(
  TEXT_RULES.flatMap((r) => r.hints)
    .map(escapeRe)
    .join('|'),
  'i',
);

// One bit per rule in a 32-bit mask.
if (TEXT_RULES.length > 31) throw new Error('rules.ts: more text rules than hint mask bits');

interface Hint {
  hint: string;
  caseSensitive: boolean;
  /** Bit i set: TEXT_RULES[i] has this hint. */
  rules: number;
}

const HINTS: Hint[] = TEXT_RULES.flatMap((r, i) =>
  r.hints.map((hint) => ({ hint, caseSensitive: !r.hintsLower, rules: 1 << i })),
);
/** Each distinct hint, lower-cased, longest first: where two start at one position the longer is reported. */
const HINT_KEYS = [...new Set(HINTS.map((h) => h.hint.toLowerCase()))].sort((a, b) => b.length - a.length);
/** The hints contained in each reported one (`sk-ant-` holds `sk-`, `PRIVATE KEY` holds `key`). */
const CONTAINED = new Map(HINT_KEYS.map((k) => [k, HINTS.filter((h) => k.includes(h.hint.toLowerCase()))]));
/** Where hintedRules switches from one scan to `includes` per hint (both give the same mask). */
const LONG_TEXT_CHARS = 256;
/**
 * The longest hint starting at a position; the scan resumes one character after each match's
 * start, so overlapping hints are all seen. (A zero-width lookahead wrapping the same alternation
 * finds the same matches at ~1.5-2x the cost: it defeats the regex engine's first-character scan.)
 */
const HINT_SCAN = new RegExp(`(?:${HINT_KEYS.map(escapeRe).join('|')})`, 'gi');

/**
 * Bit mask of the text rules whose hints occur in `text`. On short text one scan: testing each
 * of the ~40 hints with `includes` cost ~0.5 µs per hinted string (every URL, every `key=`),
 * measured. On long text `includes` runs at memory speed and the scan's per-hit work dominates.
 */
export function hintedRules(text: string): number {
  let mask = 0;
  if (text.length > LONG_TEXT_CHARS) {
    const lower = text.toLowerCase();
    for (const h of HINTS) if ((h.caseSensitive ? text : lower).includes(h.hint)) mask |= h.rules;
    return mask;
  }
  HINT_SCAN.lastIndex = 0;
  for (let m = HINT_SCAN.exec(text); m !== null; m = HINT_SCAN.exec(text)) {
    const found = m[0];
    for (const h of CONTAINED.get(found.toLowerCase())!) {
      if (!h.caseSensitive || found.includes(h.hint)) mask |= h.rules;
    }
    HINT_SCAN.lastIndex = m.index + 1;
  }
  return mask;
}

/** Base64 of `id:secret` found standing alone (decode.ts); `Basic …` headers stay `auth_header`. */
export const CREDENTIAL_PAIR_KIND = 'basic_credential';

export const SECRET_KINDS: readonly string[] = [
  ...new Set([...TEXT_RULES.map((r) => r.kind), CREDENTIAL_PAIR_KIND]),
];

/** Key names that can hold a secret, as the field rules see them (normalised keys). */
export const SECRET_NAME = /pass|pwd|secret|token|key|credential|auth|cookie|session|signature/;
/** The same names anywhere in raw text (`API-Key`, `"Password"`): a cheap test before parsing JSON. */
export const SECRET_NAME_HINT = new RegExp(SECRET_NAME.source, 'i');
