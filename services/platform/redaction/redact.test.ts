import { describe, expect, it } from 'vitest';
import { extractEntities } from './entities.js';
import { fingerprint } from './fingerprint.js';
import { placeholder, redactEvent, redactText } from './redact.js';
import { secretGenerator } from './testing.js';

const gen = secretGenerator;
const tok = gen(42);
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const KEY = 'test-fingerprint-key';

interface Case {
  kind: string;
  secret: string;
  text: string;
}

const aws = `AKIA${tok(16, UPPER_DIGITS)}`;
const awsSecret = tok(40, B64);
const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"agent-7","exp":1900000000}')}.${tok(43)}`;
const basic = Buffer.from('svc-deploy:correct-horse').toString('base64');
const pem = `-----BEGIN RSA PRIVATE KEY-----\n${tok(64, B64)}\n${tok(64, B64)}\n-----END RSA PRIVATE KEY-----`;

const CASES: Case[] = [
  { kind: 'aws_access_key_id', secret: aws, text: `using key ${aws} in us-east-1` },
  { kind: 'aws_secret_access_key', secret: awsSecret, text: `AWS_SECRET_ACCESS_KEY=${awsSecret}` },
  ...['ghp_', 'gho_', 'ghs_'].map((p) => {
    const s = `${p}${tok(36)}`;
    return { kind: 'github_token', secret: s, text: `git push https://x:${s}@github.com/o/r` };
  }),
  (() => {
    const s = `github_pat_${tok(22)}_${tok(59)}`;
    return { kind: 'github_token', secret: s, text: `GH_TOKEN=${s}` };
  })(),
  (() => {
    const s = `glpat-${tok(20)}`;
    return { kind: 'gitlab_token', secret: s, text: `PRIVATE-TOKEN: ${s}` };
  })(),
  (() => {
    const s = `xoxb-${tok(12, '0123456789')}-${tok(13, '0123456789')}-${tok(24)}`;
    return { kind: 'slack_token', secret: s, text: `slack bot ${s}` };
  })(),
  (() => {
    const s = `T0${tok(8, UPPER_DIGITS)}/B0${tok(8, UPPER_DIGITS)}/${tok(24)}`;
    return {
      kind: 'slack_webhook',
      secret: s,
      text: `post to https://hooks.slack.com/services/${s} now`,
    };
  })(),
  ...['sk_live_', 'rk_live_'].map((p) => {
    const s = `${p}${tok(24)}`;
    return { kind: 'stripe_key', secret: s, text: `stripe.api_key = "${s}"` };
  }),
  { kind: 'jwt', secret: jwt, text: `cookie: session=${jwt}; Path=/` },
  (() => {
    const s = tok(40, `${B64}-_.`).replace(/[+/]/g, 'x');
    return { kind: 'auth_header', secret: s, text: `Authorization: Bearer ${s}` };
  })(),
  { kind: 'auth_header', secret: basic, text: `authorization: Basic ${basic}` },
  { kind: 'private_key', secret: pem.split('\n').slice(1, 3).join('\n'), text: `key file:\n${pem}\nend` },
  {
    kind: 'url_password',
    secret: 'Pg-s3cret!x',
    text: 'DATABASE_URL=postgres://app:Pg-s3cret!x@db.internal:5432/prod',
  },
  { kind: 'password', secret: 'Tr0ub4dor3', text: 'Server=db1;User Id=app;Password=Tr0ub4dor3;Encrypt=true' },
  (() => {
    const s = `AIza${tok(35)}`;
    return { kind: 'google_api_key', secret: s, text: `maps key=${s}` };
  })(),
  (() => {
    const s = `sk-proj-${tok(48)}`;
    return { kind: 'openai_key', secret: s, text: `OPENAI_API_KEY=${s}` };
  })(),
  (() => {
    const s = `sk-ant-api03-${tok(90)}`;
    return { kind: 'anthropic_key', secret: s, text: `x-api-key: ${s}` };
  })(),
  (() => {
    const s = `npm_${tok(36)}`;
    return { kind: 'npm_token', secret: s, text: `//registry.npmjs.org/:_authToken=${s}` };
  })(),
  (() => {
    const s = tok(32);
    return { kind: 'generic_secret', secret: s, text: `client_secret: "${s}"` };
  })(),
];

describe('redactText: secret kinds', () => {
  it('covers at least 12 distinct kinds', () => {
    expect(new Set(CASES.map((c) => c.kind)).size).toBeGreaterThanOrEqual(12);
  });

  it.each(CASES)('$kind: removes the secret and reports it', ({ kind, secret, text }) => {
    const seen: Array<[string, string]> = [];
    const out = redactText(text, (k, v) => seen.push([k, v]));
    expect(out).not.toContain(secret);
    expect(out).toContain(placeholder(kind));
    expect(seen).toContainEqual([kind, secret]);
  });

  it.each(CASES)('$kind: is idempotent', ({ text }) => {
    const once = redactText(text);
    expect(redactText(once)).toBe(once);
  });

  it('keeps the context around a secret', () => {
    expect(redactText(CASES.find((c) => c.kind === 'url_password')!.text)).toBe(
      'DATABASE_URL=postgres://app:[REDACTED:url_password]@db.internal:5432/prod',
    );
  });

  it('redacts a private key block cut off by truncation', () => {
    const cut = pem.slice(0, 60);
    expect(redactText(`out: ${cut}`)).toBe('out: [REDACTED:private_key]');
  });

  it.each([
    'Basic functionality works; the Bearer of bad news arrived.',
    'token_type: bearer, expires_in: 3600',
    'ports 8080 and 443 are open on https://example.com:8443/path',
    'the password policy requires 12 characters',
    'sk-short and ghp_tooShort and AKIA123',
    'secret: false',
  ])('leaves ordinary text alone: %s', (text) => {
    expect(redactText(text)).toBe(text);
  });
});

function actionEvent(args: Record<string, unknown>, excerpt: string) {
  return {
    event_id: 'evt-1',
    schema_version: 1,
    type: 'action',
    occurred_at: '2026-01-01T00:00:00.000Z',
    tenant: 'acme',
    agent: { id: 'agent-7' },
    task_id: 'task-1',
    seq: 2,
    data: {
      tool: 'http.request',
      operation: 'execute',
      credential_id: 'cred-8f3a9b2c1d7e6f5a',
      outcome: 'ok',
      data_classes: [],
      arguments: args,
      output: { excerpt },
    },
  };
}

describe('redactEvent', () => {
  // Every case nested somewhere different: deep in arguments, inside arrays, and in the output.
  const args = {
    request: {
      headers: { authorization: CASES[10]!.text.split(': ')[1], 'x-trace': 'abc' },
      body: { items: CASES.slice(0, 8).map((c) => ({ note: c.text })) },
    },
    env: CASES.slice(12, 18).map((c) => c.text),
    password: 'hunter2',
    api_key: tok(32),
    token_type: 'bearer',
  };
  const excerpt = CASES.slice(8)
    .map((c) => c.text)
    .join('\n');
  const event = actionEvent(args, excerpt);
  const allSecrets = [...CASES.map((c) => c.secret), 'hunter2', args.api_key];

  it('leaves none of the secrets in the stored event', () => {
    const { event: out } = redactEvent(event, { key: KEY });
    const stored = JSON.stringify(out);
    for (const s of allSecrets) expect(stored).not.toContain(s);
    expect(out.data.arguments).toMatchObject({ password: '[REDACTED:password]', token_type: 'bearer' });
    expect(out.data.credential_id).toBe('cred-8f3a9b2c1d7e6f5a');
  });

  it('records kind, path and keyed fingerprint of each secret', () => {
    const { secrets } = redactEvent(event, { key: KEY });
    expect(secrets).toContainEqual({
      kind: 'password',
      path: 'data.arguments.password',
      fp: fingerprint(KEY, 'hunter2'),
    });
    expect(secrets).toContainEqual({
      kind: 'aws_access_key_id',
      path: 'data.arguments.request.body.items.0.note',
      fp: fingerprint(KEY, aws),
    });
    expect(secrets).toContainEqual({ kind: 'jwt', path: 'data.output.excerpt', fp: fingerprint(KEY, jwt) });
    expect(new Set(secrets.map((s) => s.kind)).size).toBeGreaterThanOrEqual(12);
    for (const s of secrets) expect(s.fp).toMatch(/^[0-9a-f]{32}$/);
  });

  it('follows the same secret across events: read in output, passed in later arguments', () => {
    const leaked = `ghp_${tok(36)}`;
    const read = redactEvent(actionEvent({}, `found token ${leaked}`), { key: KEY });
    const used = redactEvent(actionEvent({ headers: { authorization: `token ${leaked}` } }, ''), {
      key: KEY,
    });
    expect(read.secrets[0]!.fp).toBe(used.secrets[0]!.fp);
    expect(redactEvent(actionEvent({}, leaked), { key: 'other-key' }).secrets[0]!.fp).not.toBe(
      read.secrets[0]!.fp,
    );
  });

  it('writes the same event with or without a key, and is idempotent', () => {
    const keyed = redactEvent(event, { key: KEY }).event;
    const keyless = redactEvent(event);
    expect(keyless.event).toEqual(keyed);
    expect(keyless.secrets).toEqual([]);
    expect(redactEvent(keyed, { key: KEY }).event).toEqual(keyed);
    expect(redactEvent(keyed, { key: KEY }).secrets).toEqual([]);
  });

  it('does not touch the input and returns it as is when clean', () => {
    const snapshot = JSON.stringify(event);
    redactEvent(event, { key: KEY });
    expect(JSON.stringify(event)).toBe(snapshot);
    const clean = actionEvent({ path: '/tmp/x', n: 3 }, 'ok');
    expect(redactEvent(clean).event).toBe(clean);
  });

  it('fingerprints entities from arguments and output, never storing them elsewhere', () => {
    const e = actionEvent(
      { to: 'Mallory@Evil.example', body: 'see https://docs.corp.io/a?b=1' },
      'Wire to account 12345678901 at bank.example.com; contact ops@corp.io. Read index.ts',
    );
    const { entities, event: out } = redactEvent(e, { key: KEY });
    const has = (kind: string, path: string, value: string) =>
      expect(entities).toContainEqual({ kind, path, fp: fingerprint(KEY, value) });
    has('email', 'data.arguments.to', 'mallory@evil.example');
    has('host', 'data.arguments.to', 'evil.example');
    has('url', 'data.arguments.body', 'https://docs.corp.io/a?b=1');
    has('host', 'data.arguments.body', 'docs.corp.io');
    has('account', 'data.output.excerpt', '12345678901');
    has('host', 'data.output.excerpt', 'bank.example.com');
    has('email', 'data.output.excerpt', 'ops@corp.io');
    expect(entities.some((x) => x.fp === fingerprint(KEY, 'index.ts'))).toBe(false);
    expect(out).toBe(e);
    expect(redactEvent(e).entities).toEqual([]);
  });
});

describe('extractEntities', () => {
  it('normalises case and trailing punctuation', () => {
    expect(extractEntities('Go to HTTPS://Example.COM/Path.')).toEqual([
      { kind: 'url', value: 'https://example.com/Path' },
      { kind: 'host', value: 'example.com' },
    ]);
  });
  it('finds IBAN-like account numbers', () => {
    expect(extractEntities('pay DE89370400440532013000')).toContainEqual({
      kind: 'account',
      value: 'DE89370400440532013000',
    });
  });
  it('finds chat users and channels, not the @ of an e-mail, a #1 or a URL fragment', () => {
    const hits = extractEntities(
      'Also add @Ext-Bob_7, cross-post to #General-ext-12. mail a@b.example, see #1 or https://x.example/p#top',
    );
    expect(hits.filter((h) => h.kind === 'chat_user' || h.kind === 'chat_channel')).toEqual([
      { kind: 'chat_user', value: '@ext-bob_7' },
      { kind: 'chat_channel', value: '#general-ext-12' },
    ]);
  });
});
