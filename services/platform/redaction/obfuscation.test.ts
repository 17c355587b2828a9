import { describe, expect, it } from 'vitest';
import { eventHash, validateEvent } from '../../../schemas/index.js';
import { sealEvent } from '../../../sdk/seal.js';
import { MAX_DECODE_DEPTH } from './decode.js';
import { placeholder, redactEvent, redactText } from './redact.js';
import { hintedRules, TEXT_RULES } from './rules.js';
import { secretGenerator } from './testing.js';

// Issue 10, item 5: secrets hidden by common obfuscations (line wrapping, base64, JSON nested in
// strings, unusual URL passwords, secrets as keys, envelope free text). Secrets are built at run
// time from a seeded generator (as in redact.test.ts) so the repository holds no live-looking one.
const gen = secretGenerator;
const tok = gen(7);
const KEY = 'test-fingerprint-key';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
/** Hard-wrap at `width` columns, as a terminal, a log shipper or MIME base64 would. */
const wrap = (s: string, width: number, nl = '\n') => s.match(new RegExp(`.{1,${width}}`, 'g'))!.join(nl);

const ghp = `ghp_${tok(36)}`;
const pat = `github_pat_${tok(22)}_${tok(59)}`;
const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"agent-7","exp":1900000000}')}.${tok(43)}`;
const openai = `sk-proj-${tok(48)}`;
const dbUrl = 'postgres://app:Pg-s3cret!x@db.internal:5432/prod';
const pair = 'svc-deploy:correct-horse-battery';

interface TextCase {
  name: string;
  text: string;
  /** Must not survive in the output: the secret and any fragment of it a split left behind. */
  leaks: string[];
  kind: string;
  /** What is reported (and fingerprinted): the whole secret, as the unobfuscated form gives it. */
  reported: string;
}

const TEXT_CASES: TextCase[] = [
  {
    name: 'token split by a newline',
    text: `token: ${ghp.slice(0, 20)}\n${ghp.slice(20)} (rotated)`,
    leaks: [ghp.slice(4, 20), ghp.slice(20)],
    kind: 'github_token',
    reported: ghp,
  },
  {
    name: 'token split by CRLF and indentation',
    text: `  export GH_TOKEN=${ghp.slice(0, 30)}\r\n      ${ghp.slice(30)}`,
    leaks: [ghp.slice(4, 30), ghp.slice(30)],
    kind: 'github_token',
    reported: ghp,
  },
  (() => {
    // The head alone is a valid fine-grained PAT, so only the tail leaks.
    const [head, tail] = [pat.slice(0, 60), pat.slice(60)];
    return {
      name: 'long token wrapped at a column',
      text: `${head}\n${tail}`,
      leaks: [tail],
      kind: 'github_token',
      reported: pat,
    };
  })(),
  {
    name: 'JWT wrapped inside its signature',
    text: `Cookie: s=${jwt.slice(0, -20)}\n${jwt.slice(-20)}`,
    leaks: [jwt.slice(-20)],
    kind: 'jwt',
    reported: jwt,
  },
  {
    name: 'base64 of a token',
    text: `GH_TOKEN_B64=${b64(ghp)}`,
    leaks: [b64(ghp), ghp],
    kind: 'github_token',
    reported: ghp,
  },
  {
    name: 'base64url of a token',
    text: `{"blob":"${b64url(`Bearer-less ${openai}`)}"}`,
    leaks: [b64url(`Bearer-less ${openai}`), openai],
    kind: 'openai_key',
    reported: openai,
  },
  {
    name: 'base64 of a connection URL',
    text: `DATABASE_URL_B64 ${b64(dbUrl)} loaded`,
    leaks: [b64(dbUrl), 'Pg-s3cret!x'],
    kind: 'url_password',
    reported: 'Pg-s3cret!x',
  },
  {
    name: 'base64 of id:secret',
    text: `X-Upstream-Credentials: ${b64(pair)}`,
    leaks: [b64(pair)],
    kind: 'basic_credential',
    reported: b64(pair),
  },
  (() => {
    const env = `HOME=/home/app\nOPENAI_API_KEY=${openai}\nLOG=debug\n`;
    return {
      name: 'base64 of a file holding a token, MIME-wrapped at 76 columns',
      text: `attachment:\n${wrap(b64(env), 76)}\n--`,
      leaks: [
        openai,
        ...wrap(b64(env), 76)
          .split('\n')
          .filter((l) => l.length > 8),
      ],
      kind: 'openai_key',
      reported: openai,
    };
  })(),
  {
    name: '"password":"…" inside a JSON string inside a string',
    text: JSON.stringify({ request: JSON.stringify({ user: 'app', password: 'Tr0ub4dor3x' }) }),
    leaks: ['Tr0ub4dor3x'],
    kind: 'password',
    reported: 'Tr0ub4dor3x',
  },
  {
    name: '"password":"…" in doubly nested JSON cut off by truncation',
    text: JSON.stringify({
      a: JSON.stringify({ b: JSON.stringify({ password: 'Tr0ub4dor3x', more: 'x'.repeat(40) }) }),
    }).slice(0, 70),
    leaks: ['Tr0ub4dor3x'],
    kind: 'password',
    reported: 'Tr0ub4dor3x',
  },
  {
    name: 'token hidden by JSON \\u escapes inside a string',
    text: `{"t":"\\u0067hp_${ghp.slice(4)}"}`,
    leaks: [ghp.slice(4)],
    kind: 'github_token',
    reported: ghp,
  },
  {
    name: 'URL password containing /',
    text: 'postgres://app:ab/cd9Xy7@db.internal:5432/prod',
    leaks: ['ab/cd9Xy7', 'cd9Xy7'],
    kind: 'url_password',
    reported: 'ab/cd9Xy7',
  },
  {
    name: 'URL password containing +',
    text: 'amqp://svc:ab+cd9Xy7@mq.internal/vhost',
    leaks: ['ab+cd9Xy7'],
    kind: 'url_password',
    reported: 'ab+cd9Xy7',
  },
  {
    name: 'URL password containing @',
    text: 'DATABASE_URL=postgres://app:p@ss9Xy7@db.internal:5432/prod',
    leaks: ['ss9Xy7'],
    kind: 'url_password',
    reported: 'p@ss9Xy7',
  },
  {
    name: 'URL password containing /, + and @ at once',
    text: 'redis://:q/w+e@r9Xy7@cache.internal:6379/0 ok',
    leaks: ['q/w+e', 'r9Xy7'],
    kind: 'url_password',
    reported: 'q/w+e@r9Xy7',
  },
];

describe('redactText: obfuscated secrets (issue 10 item 5)', () => {
  it.each(TEXT_CASES)('$name: removes every part of the secret', ({ text, leaks, kind, reported }) => {
    const seen: Array<[string, string]> = [];
    const out = redactText(text, (k, v) => seen.push([k, v]));
    for (const l of leaks) expect(out).not.toContain(l);
    expect(out).toContain(placeholder(kind));
    expect(seen).toContainEqual([kind, reported]);
  });

  it.each(TEXT_CASES)('$name: is idempotent', ({ text }) => {
    const once = redactText(text);
    expect(redactText(once)).toBe(once);
  });

  it.each([
    ['base64 of ordinary text', `note ${b64('the quarterly report is attached, see page 4')}`],
    ['a sha256 digest', 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    [
      'a UUID and a path',
      'run 550e8400-e29b-41d4-a716-446655440000 wrote /var/lib/agenttrail/state/out.json',
    ],
    [
      'camelCase and snake_case identifiers',
      'createFingerprinter MAX_ARGUMENTS_BYTES internationalization_table',
    ],
    ['prose over several lines', 'The deploy finished.\nAll checks passed\nand the token_type is bearer.'],
    [
      'a URL with a port and an @ in its path',
      'GET https://registry.npmjs.org:443/@scope/pkg and http://localhost:8080/@vite/client',
    ],
    [
      'JSON without secrets',
      JSON.stringify({ a: JSON.stringify({ path: '/tmp/x', n: 3, note: 'line\nbreak' }) }),
    ],
  ])('leaves ordinary text alone: %s', (_name, text) => {
    expect(redactText(text)).toBe(text);
  });

  it('keeps the next line when a whole token ends a line', () => {
    expect(redactText(`GH_TOKEN=${ghp}\nexport NEXT=1`)).toBe(
      'GH_TOKEN=[REDACTED:github_token]\nexport NEXT=1',
    );
  });
});

function event(agent: Record<string, unknown>, args: Record<string, unknown>) {
  return {
    event_id: 'evt-1',
    schema_version: 1,
    type: 'action',
    occurred_at: '2026-01-01T00:00:00.000Z',
    tenant: 'acme',
    agent: { id: 'agent-7', ...agent },
    task_id: 'task-1',
    seq: 1,
    data: { tool: 'http.request', operation: 'execute', outcome: 'ok', data_classes: [], arguments: args },
  };
}

interface EventCase {
  name: string;
  event: ReturnType<typeof event>;
  leaks: string[];
  kind: string;
  path: string;
}

const credential = tok(32);
const EVENT_CASES: EventCase[] = [
  {
    name: 'JWT used as an object key',
    event: event({}, { sessions: { [jwt]: { state: 'active' }, other: 1 } }),
    leaks: [jwt, jwt.split('.')[2]!],
    kind: 'jwt',
    path: 'data.arguments.sessions.[REDACTED:jwt]',
  },
  {
    name: 'two tokens used as keys of one object',
    event: event({}, { grants: { [ghp]: 'read', [`ghp_${tok(36)}`]: 'write' } }),
    leaks: [ghp.slice(4)],
    kind: 'github_token',
    path: 'data.arguments.grants.[REDACTED:github_token]',
  },
  {
    name: 'free-text envelope field agent.instance',
    event: event({ instance: `worker-3 ${ghp}` }, {}),
    leaks: [ghp],
    kind: 'github_token',
    path: 'agent.instance',
  },
  {
    name: 'free-text envelope field agent.model',
    event: event({ model: `proxy ${dbUrl}` }, {}),
    leaks: ['Pg-s3cret!x'],
    kind: 'url_password',
    path: 'agent.model',
  },
  {
    name: 'free-text envelope fields agent.framework and agent.workload_identity',
    event: event({ framework: `lc ${openai}`, workload_identity: `spiffe://corp/ns/${jwt}` }, {}),
    leaks: [openai, jwt],
    kind: 'openai_key',
    path: 'agent.framework',
  },
  {
    name: 'secret-named field inside a JSON string argument',
    event: event({}, { body: JSON.stringify({ user: 'app', credential }) }),
    leaks: [credential],
    kind: 'generic_secret',
    path: 'data.arguments.body.credential',
  },
];

describe('redactEvent: obfuscated secrets (issue 10 item 5)', () => {
  it.each(EVENT_CASES)('$name: nothing of the secret is stored', ({ event: e, leaks, kind, path }) => {
    const { event: out, secrets, entities } = redactEvent(e, { key: KEY });
    // Sighting paths are stored too (secret_paths, entity_paths): they must not carry a secret.
    const stored = JSON.stringify({ out, secrets, entities });
    for (const l of leaks) expect(stored).not.toContain(l);
    expect(secrets).toContainEqual(expect.objectContaining({ kind, path }));
  });

  it.each(EVENT_CASES)('$name: keyless equals keyed, idempotent, still a valid event', ({ event: e }) => {
    const keyed = redactEvent(e, { key: KEY }).event;
    expect(redactEvent(e).event).toEqual(keyed);
    expect(redactEvent(keyed).event).toEqual(keyed);
    expect(validateEvent(keyed).ok).toBe(true);
  });

  it.each(EVENT_CASES)('$name: the SDK-sealed hash verifies on the stored form', ({ event: e }) => {
    const sealed = sealEvent(e);
    const stored = redactEvent(sealed, { key: KEY }).event;
    expect(eventHash(stored as unknown as Record<string, unknown>)).toBe(sealed.hash);
  });

  it('keeps both values when two secret keys redact to the same placeholder', () => {
    const out = redactEvent(EVENT_CASES[1]!.event).event.data.arguments as { grants: Record<string, string> };
    expect(Object.values(out.grants).sort()).toEqual(['read', 'write']);
  });
});

describe('redaction bounds (hot path)', () => {
  const layers = (s: string, n: number) => {
    let out = s;
    for (let i = 0; i < n; i++) out = b64(out);
    return out;
  };

  it(`peels up to MAX_DECODE_DEPTH (${MAX_DECODE_DEPTH}) layers of encoding, and no more`, () => {
    expect(redactText(layers(`token ${ghp}`, MAX_DECODE_DEPTH))).toBe(placeholder('github_token'));
    const deeper = layers(`token ${ghp}`, MAX_DECODE_DEPTH + 1);
    expect(redactText(deeper)).toBe(deeper);
  });

  it('does not overflow on JSON nested thousands deep inside a string', () => {
    const pw = tok(12);
    const deep = `${'['.repeat(6000)}"password=${pw}"${']'.repeat(6000)}`;
    // Too deep to walk: the text rules still apply to the raw text.
    expect(redactText(deep)).not.toContain(pw);
    expect(() => redactEvent(event({}, { x: deep }), { key: KEY })).not.toThrow();
  });

  it('keeps a `__proto__` key as a member when its value is redacted', () => {
    const args = JSON.parse(`{"__proto__":"${ghp}","b":1}`) as Record<string, unknown>;
    const out = redactEvent(event({}, args)).event.data.arguments as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":"[REDACTED:github_token]","b":1}');
  });
});

describe('hintedRules', () => {
  // The one-scan hint lookup must give exactly what testing every hint with includes gives.
  const naive = (text: string) =>
    TEXT_RULES.reduce(
      (mask, r, i) =>
        r.hints.some((h) => (r.hintsLower ? text.toLowerCase() : text).includes(h)) ? mask | (1 << i) : mask,
      0,
    );
  it.each([
    'sk-ant-abc and sk-proj-def',
    'PRIVATE KEY private key',
    'awssecret_key=x',
    'Bearer x; basic y; pass; PWD; Token; ghp_ gho_ AIza eyJ xoxb- hooks.slack.com/x _live_ npm_ AKIA',
    `${'x'.repeat(300)} https://a.example/?api_key=1 ${'ASIA'}`,
    'nothing to see',
  ])('matches per-hint includes: %s', (text) => {
    expect(hintedRules(text)).toBe(naive(text));
  });
});
