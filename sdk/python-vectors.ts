import { canonicalJson, chainView } from '../schemas/index.js';
import { redactEvent, redactText } from '../services/platform/redaction/index.js';
import { sealEvent } from './seal.js';

// Cross-language test vectors for the Python SDK (sdk/python): events sealed by THIS SDK (the
// reference), with the canonical chain text and hash the Python SDK must reproduce byte for byte,
// and strings redacted by the shared redactor. Written to sdk/python/tests/vectors/chain.json;
// sdk/python-chain.test.ts fails when the file is stale (this side drifted) or when Python's
// answers differ (that side drifted); pytest checks the same file.

const BASE = {
  schema_version: 1,
  occurred_at: '2026-03-01T12:00:00.000Z',
  tenant: 'acme',
  agent: { id: 'agent-7', instance: 'pod-1' },
  task_id: 'task-vectors',
} as const;

const SCOPE = { allow: [{ tools: ['github.*'], operations: ['read', 'write'] }] };
const PREV = 'ab'.repeat(32);
const GH = `ghp_${'Zx9'.repeat(12)}`;

function ev(name: string, type: string, seq: number, data: Record<string, unknown>, more = {}) {
  return {
    name,
    event: {
      ...BASE,
      event_id: `ev-${name}`,
      type,
      seq,
      ...(seq > 1 ? { prev_hash: PREV } : {}),
      data,
      ...more,
    },
  };
}

const action = (args: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  tool: 'github.issues.update',
  operation: 'write',
  outcome: 'ok',
  arguments: args,
  ...more,
});

/** Hand-written cases: each names what it pins down. */
export const CHAIN_CASES: Array<{ name: string; event: Record<string, unknown>; maxBytes?: number }> = [
  ev('declared-defaults', 'task.declared', 1, {
    intent: 'Triage open issues',
    scope: SCOPE,
    declared_by: { kind: 'human', id: 'alice@acme.example' },
  }),
  ev('declared-nested-defaults', 'task.declared', 1, {
    intent: 'x',
    scope: { ...SCOPE, approvals: { approvers: ['bob'] }, limits: { max_actions: 5 } },
    declared_by: { kind: 'service', id: 'ci' },
    labels: { team: 'platform', é: 'ü' },
  }),
  ev('non-ascii', 'task.declared', 1, {
    intent: 'naïve café — 日本語 — 👩‍👩‍👧 𝄞 — Ελληνικά — عربى',
    scope: SCOPE,
    declared_by: { kind: 'human', id: 'alice' },
  }),
  ev(
    'key-order-utf16',
    'action',
    2,
    action({
      b: 1,
      a: 2,
      '10': 'ten',
      '2': 'two',
      Z: 'upper',
      _: 'underscore',
      é: 'e-acute',
      '\uffff': 'bmp-last',
      '😀': 'astral sorts before U+FFFF in UTF-16',
      '\ue000': 'private use',
      nested: { z: [{ y: 1, x: 2 }], a: { '😀': 1, '\uffff': 2 } },
    }),
  ),
  ev(
    'numbers',
    'action',
    3,
    action(
      {
        zero: 0,
        one: 1,
        neg: -1,
        tenth: 0.1,
        sum: 0.1 + 0.2,
        big: 1e21,
        bigger: 1.5e300,
        tiny: 1e-7,
        small: 0.000001,
        denormal: 5e-324,
        max: Number.MAX_VALUE,
        safe: Number.MAX_SAFE_INTEGER,
        two53: 2 ** 53,
        negTwo53: -(2 ** 53),
        two60: 2 ** 60,
        two70: 2 ** 70,
        frac: 123456789.123,
        list: [1, 2.5, -3e-9, 1e20, 1e21],
      },
      { latency_ms: 12.345678 },
    ),
  ),
  ev(
    'escapes',
    'action',
    4,
    action({ ctl: '\u0000\u0001\u001f\b\t\n\f\r"\\/\u007f\u2028\u2029', key: 'a"b\\c' }),
  ),
  ev(
    'lone-surrogates',
    'action',
    5,
    action(
      { hi: 'x\ud800y', lo: '\udc00', pair: '\ud83d\ude00', reversed: '\ude00\ud83d', 'k\udbff': 1 },
      { output: { excerpt: 'out \ud801' } },
    ),
    { agent: { id: 'agent-7', instance: 'pod-\udfff' } },
  ),
  ev(
    'deeply-nested',
    'action',
    6,
    action({
      a: { b: { c: { d: [1, [2, [3, { e: { f: 'deep ☃' } }]]] } } },
      arr: [[], {}, [{}], null, true],
    }),
  ),
  ev(
    'secrets-tokens',
    'action',
    7,
    action({
      gh: `token ${GH}`,
      aws: 'AKIAABCDEFGHIJKLMNOP and aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_nature-x',
      slack: 'xoxb-1234567890-abcdefghij and https://hooks.slack.com/services/T000/B000/XXXXXXXX',
      stripe: 'sk_live_abcdefghijklmnop1234',
      anthropic: 'sk-ant-api03-abcdefghijklmnopqrstuv',
      openai: 'sk-proj-abcdefghijklmnopqrstuvwxyz',
      npm: `npm_${'a1B2'.repeat(9)}`,
      google: `AIza${'x'.repeat(35)}`,
      gitlab: 'glpat-abcdefghij1234567890',
      url: 'postgres://admin:p@ss/w0rd@db.internal:5432/app and https://host:8443/@scope/pkg',
    }),
  ),
  ev(
    'secrets-keyvalue',
    'action',
    8,
    action({
      header: 'Authorization: Bearer abc123def456ghi',
      basic: 'Basic dXNlcjpwYXNzd29yZDEyMw==',
      prose: 'Basic functionality works',
      pw: 'password=hunter2&user=bob',
      conn: 'Server=db;Password=s3cr3t;User=sa',
      api: 'api_key: "Q8zX2vB7nM4kL1pR"',
      escaped: '{\\"password\\":\\"nested-secret\\"}',
      pem: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      pemCut: 'x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg',
    }),
  ),
  ev(
    'secrets-fields-and-keys',
    'action',
    9,
    action({
      password: 'correct horse',
      client_secret: 'Zq8Xw7Vu6Ts5Rq4P',
      credential_id: 'cred-9f8e7d6c5b4a3921',
      session_id: 'Zq8Xw7Vu6Ts5Rq4PzQ',
      [GH]: 'a token used as a key',
      [`${GH.slice(0, -1)}A`]: 'another one',
      '[REDACTED:github_token]': 'a placeholder already there',
      headers: { authorization: `token ${GH}`, cookie: 'sid=Zq8Xw7Vu6Ts5Rq4PzQ' },
      list: { pwd: ['one', 'two'] },
    }),
  ),
  ev(
    'secrets-encoded',
    'action',
    10,
    action({
      b64: Buffer.from(`password=${'hunter2'}`).toString('base64'),
      pair: Buffer.from('deploy:Tr0ub4dor&3').toString('base64'),
      urlsafe: Buffer.from(`token ${GH}`).toString('base64url'),
      json: JSON.stringify({ b: 1, '2': { password: 'in json' }, '1': 1e21, u: '😀', deep: { apiKey: GH } }),
      jsonEscaped: '{"k":"\\u00e9\\ud83d\\ude00","password":"x"}',
      wrapped: `token ${GH.slice(0, 20)}\n    ${GH.slice(20)}`,
      wrappedWords: `${GH}\nexport LOG=debug`,
    }),
  ),
  ev('agent-secret', 'action', 11, action({}), {
    agent: {
      id: 'agent-7',
      model: `model with ${GH}`,
      framework: 'lang',
      workload_identity: 'spiffe://acme/a',
    },
  }),
  {
    ...ev(
      'fit-oversized',
      'action',
      12,
      action(
        { blob: 'é'.repeat(7000) },
        {
          output: { excerpt: `${'word '.repeat(800)}😀😀😀 tail` },
          error: `${'e'.repeat(500)}😀`,
        },
      ),
    ),
    maxBytes: 16_384,
  },
  {
    ...ev(
      'fit-arguments',
      'action',
      13,
      action({ blob: 'x'.repeat(16_000) }, { output: { excerpt: 'short' } }),
    ),
    maxBytes: 16_384,
  },
  ev('approval-defaults', 'approval.granted', 14, {
    approval_id: 'ap-1',
    approver: 'bob',
    target: { tool: 'github.repo.delete', operation: 'delete' },
  }),
  ev('credential-defaults', 'credential.issued', 15, {
    credential_id: 'cred-1',
    kind: 'oauth_token',
    expires_at: '2026-03-01T13:00:00+01:00',
  }),
  ev('prev-hash-null', 'task.ended', 16, { outcome: 'completed', summary: 'done ✓' }, { prev_hash: null }),
  ev('trace-ids', 'action', 17, action({ q: 1 }), {
    trace_id: '0af7651916cd43dd8448eb211c80319c',
    span_id: 'b7ad6b7169203331',
  }),
  ev(
    'targets',
    'action',
    21,
    action(
      { to: 'billing@partner.example' },
      {
        operation: 'transfer',
        resource: 'mail:outbox',
        targets: [
          { kind: 'resource', value: 'mail:outbox' },
          { kind: 'recipient', value: 'billing@partner.example', form: 'email', role: 'to' },
          { kind: 'account', value: 'DE89 3704 0044 0532 0130 00' },
        ],
      },
    ),
  ),
  ev('invalid-targets-first-resource-differs', 'action', 22, {
    ...action({}),
    resource: 'a',
    targets: [{ kind: 'resource', value: 'b' }],
  }),
  ev('invalid-field', 'action', 18, { tool: '', operation: 'fly', outcome: 'ok', extra: 1 }),
  ev('invalid-arguments-too-large', 'action', 19, action({ blob: 'x'.repeat(17_000) })),
  ev('invalid-approval-target', 'approval.requested', 20, { approval_id: 'ap-2', target: { tool: 'x' } }),
];

/** Seeded PRNG (mulberry32): the same strings on every run. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces random strings are made of: secret prefixes, encodings, breaks, quotes, surrogates. */
const PIECES = [
  'ghp_',
  'Zx9Zx9Zx9Zx9',
  'AKIA',
  'ABCDEFGHIJKLMNOP',
  'password',
  'pwd',
  '=',
  ': ',
  '"',
  '\\"',
  "'",
  '\\',
  '\n',
  '\r\n  ',
  ' ',
  'Bearer ',
  'basic ',
  'token',
  'api_key',
  'secret',
  '://u:',
  '@h.io',
  'eyJhbGciOiJIUzI1NiJ9',
  '.',
  'sk-',
  'xoxb-',
  'dXNlcjpwYXNz',
  'cGFzc3dvcmQ9aHVudGVyMg==',
  '{',
  '}',
  '[',
  ']',
  '😀',
  '\ud800',
  '\udc00',
  'é',
  '日本',
  '\u0000',
  '\u2028',
  '\ufeff',
  '\u00a0',
  'K',
  'İ',
  '1234567890',
  'abcdefghij',
  'QWERTYUIOP',
  '-----BEGIN PRIVATE KEY-----',
  '[REDACTED:jwt]',
];

export function randomStrings(n: number, seed = 15): string[] {
  const rand = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts = 1 + Math.floor(rand() * 12);
    let s = '';
    for (let j = 0; j < parts; j++) s += PIECES[Math.floor(rand() * PIECES.length)];
    out.push(s);
  }
  return out;
}

export interface ChainVector {
  name: string;
  event: Record<string, unknown>;
  max_bytes?: number;
  /** Absent when the event is invalid; then `error_paths` lists the fields at fault. */
  hash?: string;
  /** Canonical text of the redacted, validated event (what the hash covers). */
  chain_text?: string;
  /** JSON bytes of the sealed event as sent (the outbox batches by it). */
  bytes?: number;
  error_paths?: string[];
}

export interface Vectors {
  note: string;
  chain: ChainVector[];
  /** `redactText` of each string. */
  redaction: Array<{ text: string; redacted: string }>;
  /** Random strings as one action's arguments (values and keys): hash and redacted canonical text. */
  random_events: ChainVector[];
}

function vector(name: string, event: Record<string, unknown>, maxBytes?: number): ChainVector {
  const base: ChainVector = { name, event, ...(maxBytes ? { max_bytes: maxBytes } : {}) };
  try {
    const sealed = sealEvent(event, maxBytes ? { maxBytes } : {});
    const redacted = redactEvent(sealed).event as unknown as Record<string, unknown>;
    return {
      ...base,
      hash: sealed.hash,
      chain_text: canonicalJson(chainView(redacted)),
      bytes: Buffer.byteLength(JSON.stringify(sealed), 'utf8'),
    };
  } catch (err) {
    const errors = (err as { errors?: Array<{ path: string }> }).errors;
    if (!errors) throw err;
    return { ...base, error_paths: [...new Set(errors.map((e) => e.path))].sort() };
  }
}

export function computeVectors(): Vectors {
  const strings = randomStrings(400);
  const random_events: ChainVector[] = [];
  for (let i = 0; i < strings.length; i += 8) {
    const slice = strings.slice(i, i + 8);
    const args: Record<string, unknown> = {};
    slice.forEach((s, j) => {
      args[j % 2 === 0 ? `v${j}` : s] = j % 2 === 0 ? s : { nested: s, list: [s] };
    });
    const n = i / 8;
    random_events.push(
      vector(`random-${n}`, {
        ...BASE,
        event_id: `ev-random-${n}`,
        type: 'action',
        seq: n + 2,
        prev_hash: PREV,
        data: action(args, { output: { excerpt: slice.join(' ') } }),
      }),
    );
  }
  return {
    note: 'Generated by sdk/python-vectors.ts (UPDATE_VECTORS=1 npx vitest run sdk/python-chain.test.ts); do not edit.',
    chain: CHAIN_CASES.map((c) => vector(c.name, c.event, c.maxBytes)),
    redaction: strings.map((text) => ({ text, redacted: redactText(text) })),
    random_events,
  };
}

/** The vectors file's text: JSON, one case per line for readable diffs. */
export function renderVectors(v: Vectors): string {
  const list = (xs: unknown[]) => `[\n${xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]`;
  return `{\n  "note": ${JSON.stringify(v.note)},\n  "chain": ${list(v.chain)},\n  "redaction": ${list(v.redaction)},\n  "random_events": ${list(v.random_events)}\n}\n`;
}
