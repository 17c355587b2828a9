import { describe, expect, it } from 'vitest';
import { parseRoutes, resolveRouting, route } from './routes.js';
import { makeAlert } from './testing.js';

const doc = {
  version: 1,
  destinations: {
    soc: { type: 'webhook', url: 'https://soc.example/hook', secret_env: 'SOC_SECRET' },
    chat: { type: 'slack', url_env: 'SLACK_URL' },
    pager: { type: 'pagerduty', routing_key_env: 'PD_KEY', url: 'http://127.0.0.1:1/v2/enqueue' },
  },
  routes: [
    {
      name: 'acme-critical',
      match: { tenants: ['acme'], min_severity: 'critical' },
      destinations: ['pager'],
    },
    { name: 'egress', match: { rules: ['scope.egress.*'] }, destinations: ['chat'] },
    {
      name: 'bots',
      match: { agents: ['bot-**'], labels: { env: 'prod' } },
      destinations: ['soc'],
      final: true,
    },
    { name: 'all', destinations: ['soc'] },
  ],
};
const env = { SOC_SECRET: 's3cret', SLACK_URL: 'https://hooks.slack.example/T/B/token', PD_KEY: 'rk' };

describe('routes', () => {
  const file = parseRoutes(doc);
  const routing = resolveRouting(file, env);

  it('applies defaults and resolves env references', () => {
    const chat = routing.destinations.get('chat')!;
    expect(chat.target_url).toBe(env.SLACK_URL);
    expect(chat.max_attempts).toBe(5);
    expect(routing.destinations.get('soc')!.signing_secret).toBe('s3cret');
    expect(routing.destinations.get('pager')!.routing_key).toBe('rk');
  });

  it('matches severity, rule globs, tenants, agents and labels, in order, without repeats', () => {
    expect(route(file.routes, makeAlert({ severity: 'critical' }))).toEqual(['pager', 'chat', 'soc']);
    expect(route(file.routes, makeAlert({ severity: 'high' }))).toEqual(['chat', 'soc']);
    expect(route(file.routes, makeAlert({ rule_id: 'scope.egress.x.y', severity: 'low' }))).toEqual(['soc']);
    expect(route(file.routes, makeAlert({ tenant: 'other', severity: 'critical', rule_id: 'x' }))).toEqual([
      'soc',
    ]);
  });

  it('stops at a final route', () => {
    const a = makeAlert({ rule_id: 'x', agent_id: 'bot-1/a', labels: { env: 'prod' } });
    expect(route([...file.routes.slice(2, 3), ...file.routes], a)).toEqual(['soc']);
    const b = makeAlert({ rule_id: 'x', agent_id: 'bot-1', labels: { env: 'dev' } });
    expect(route(file.routes.slice(2), b)).toEqual(['soc']);
  });

  it('rejects unknown destinations, unknown keys, url and url_env together, naming the path', () => {
    expect(() => parseRoutes({ ...doc, routes: [{ name: 'x', destinations: ['nope'] }] })).toThrow(
      /routes\.0\.destinations\.0: unknown destination "nope"/,
    );
    expect(() =>
      parseRoutes({
        ...doc,
        destinations: { a: { type: 'webhook', url: 'https://x', secret_env: 'S', foo: 1 } },
      }),
    ).toThrow(/foo/);
    expect(() =>
      parseRoutes({
        ...doc,
        routes: [],
        destinations: { a: { type: 'slack', url: 'https://x', url_env: 'U' } },
      }),
    ).toThrow(/exactly one of url and url_env/);
    expect(() =>
      parseRoutes({
        ...doc,
        destinations: { a: { type: 'webhook', url: 'https://x', secret_env: 'lower' } },
      }),
    ).toThrow(/environment variable name/);
  });

  it('fails start-up naming a missing variable, never a value', () => {
    expect(() => resolveRouting(file, { ...env, SOC_SECRET: undefined })).toThrow(
      /destination "soc": secret_env refers to SOC_SECRET, which is not set/,
    );
    try {
      resolveRouting(file, { ...env, SLACK_URL: 'not a url' });
    } catch (err) {
      expect(String(err)).not.toContain('not a url');
    }
  });
});
