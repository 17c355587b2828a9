import type { RecipientForm, RecipientScope } from '../../../schemas/index.js';
import { compileGlobList, destinationHost, LITERAL_PREFIX, type Matcher } from '../../platform/glob.js';

// Recipients are matched per kind, each value and each glob normalised the same way first, so
// `Mark@Gmail.com`, `mailto:mark@gmail.com` and `Mark <mark@gmail.com>` are one address and
// `https://www.acme.example/docs/` is `acme.example/docs`. Patterns keep their wildcards and
// escapes (normalisation only drops prefixes, suffixes and case).

export type RecipientList = 'emails' | 'accounts' | 'chat_users' | 'chat_channels' | 'urls';

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The form of a recipient value that says none: undefined when the shape does not tell. */
export function inferRecipientForm(value: string): RecipientForm | undefined {
  const v = value.trim();
  if (/^mailto:/i.test(v) || EMAIL.test(v) || /<[^<>\s@]+@[^<>\s]+>$/.test(v)) return 'email';
  if (SCHEME.test(v)) return 'url';
  if (v.startsWith('#')) return 'chat_channel';
  if (v.startsWith('@')) return 'chat_user';
  return undefined;
}

function email(v: string): string {
  let s = v.trim();
  const angle = /<([^<>]+)>\s*$/.exec(s);
  if (angle) s = angle[1]!;
  s = s.replace(/^mailto:/i, '');
  const q = s.indexOf('?');
  if (q >= 0) s = s.slice(0, q);
  return s.trim().toLowerCase();
}

function account(v: string): string {
  return v
    .trim()
    .replace(/^iban:/i, '')
    .replace(/[\s-]/g, '')
    .toUpperCase();
}

function url(v: string): string {
  let s = v.trim().replace(SCHEME, '');
  const hash = s.indexOf('#');
  if (hash >= 0) s = s.slice(0, hash);
  let cut = s.length;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '/' || s[i] === '?') {
      cut = i;
      break;
    }
  }
  let host = s.slice(0, cut).toLowerCase();
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  if (host.startsWith('www.')) host = host.slice(4);
  const rest = s
    .slice(cut)
    .replace(/\/+$/, '')
    .replace(/\/+(\?)/, '$1');
  return host + rest;
}

const NORMALISE: Record<RecipientList, (v: string) => string> = {
  emails: email,
  accounts: account,
  chat_users: (v) => v.trim().replace(/^@/, '').toLowerCase(),
  chat_channels: (v) => v.trim().replace(/^#/, '').toLowerCase(),
  urls: url,
};

export function normaliseRecipient(list: RecipientList, value: string): string {
  return NORMALISE[list](value);
}

/** A glob normalised like the values it is matched against (a `literal:` pattern keeps its prefix). */
export function normalisePattern(list: RecipientList, pattern: string): string {
  if (pattern.startsWith(LITERAL_PREFIX))
    return LITERAL_PREFIX + NORMALISE[list](pattern.slice(LITERAL_PREFIX.length));
  return NORMALISE[list](pattern);
}

export type CompiledRecipients = Readonly<Record<RecipientList, Matcher>>;

export function compileRecipients(r: RecipientScope): CompiledRecipients {
  const one = (list: RecipientList) => compileGlobList(r[list].map((p) => normalisePattern(list, p)));
  return {
    emails: one('emails'),
    accounts: one('accounts'),
    chat_users: one('chat_users'),
    chat_channels: one('chat_channels'),
    urls: one('urls'),
  };
}

export const LIST_OF_FORM: Record<RecipientForm, RecipientList> = {
  email: 'emails',
  chat_user: 'chat_users',
  chat_channel: 'chat_channels',
  url: 'urls',
};

/** The host an e-mail address or URL reaches (for the `egress` fallback). */
export function recipientHost(form: RecipientForm, value: string): string | undefined {
  if (form === 'email') {
    const e = email(value);
    const at = e.lastIndexOf('@');
    return at >= 0 ? e.slice(at + 1) : undefined;
  }
  if (form === 'url') return destinationHost(value.trim());
  return undefined;
}
