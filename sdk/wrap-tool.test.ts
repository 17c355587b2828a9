import { describe, expect, it } from 'vitest';
import { createAgentTrail } from './client.js';
import { AGENT, DECLARE, memoryTransport } from './test-helpers.js';
import { boundedExcerpt } from './wrap-tool.js';

async function setup() {
  const mem = memoryTransport();
  const trail = createAgentTrail({ tenant: 'acme', agent: AGENT, transport: mem.transport });
  const task = await trail.declareTask(DECLARE);
  const lastAction = async () => {
    await trail.flush();
    return mem.accepted().at(-1)!;
  };
  return { task, lastAction };
}

describe('wrapTool', () => {
  it('records operation, resource, arguments, outcome, latency and output excerpt', async () => {
    const { task, lastAction } = await setup();
    const getIssue = task.wrapTool(
      'github.issues.get',
      { operation: 'read', resource: (a: { repo: string; n: number }) => `github:${a.repo}/issues/${a.n}` },
      async (a: { repo: string; n: number }) => {
        await new Promise((r) => setTimeout(r, 5));
        return { title: `issue ${a.n}`, body: 'contact ops@corp.io' };
      },
    );
    await expect(getIssue({ repo: 'acme/web', n: 7 })).resolves.toEqual({
      title: 'issue 7',
      body: 'contact ops@corp.io',
    });
    const e = await lastAction();
    expect(e).toMatchObject({
      type: 'action',
      seq: 2,
      data: {
        tool: 'github.issues.get',
        operation: 'read',
        resource: 'github:acme/web/issues/7',
        outcome: 'ok',
        arguments: { repo: 'acme/web', n: 7 },
        output: { excerpt: '{"title":"issue 7","body":"contact ops@corp.io"}' },
      },
    });
    expect(e.type === 'action' && e.data.latency_ms).toBeGreaterThanOrEqual(4);
  });

  it('records a failure and rethrows the tool error unchanged', async () => {
    const { task, lastAction } = await setup();
    const boom = new Error('403 from API');
    const del = task.wrapTool('s3.delete', { operation: 'delete', resource: 's3://b/k' }, async () => {
      throw boom;
    });
    await expect(del()).rejects.toBe(boom);
    expect(await lastAction()).toMatchObject({
      data: { outcome: 'error', error: '403 from API', arguments: { args: [] } },
    });
  });

  it('classifies refusals as denied', async () => {
    const { task, lastAction } = await setup();
    const send = task.wrapTool(
      'mail.send',
      {
        operation: 'transfer',
        destination: 'smtp.corp.io',
        isDenied: (e) => (e as Error).message === 'policy',
      },
      async (_to: string) => {
        throw new Error('policy');
      },
    );
    await expect(send('x@y.example')).rejects.toThrow('policy');
    expect(await lastAction()).toMatchObject({
      data: { outcome: 'denied', destination: 'smtp.corp.io', arguments: { args: ['x@y.example'] } },
    });
  });

  it('bounds oversized arguments instead of failing the record', async () => {
    const { task, lastAction } = await setup();
    const put = task.wrapTool('kv.put', { operation: 'write' }, async (_v: { blob: string }) => 'ok');
    await put({ blob: 'x'.repeat(20_000) });
    expect(await lastAction()).toMatchObject({ data: { arguments: { truncated: true }, outcome: 'ok' } });
  });
});

describe('boundedExcerpt', () => {
  it('drops a token cut in half, so no partial secret survives truncation', () => {
    const token = `ghp_${'a1B2'.repeat(9)}`;
    const text = `result ok ${token} more`;
    const cut = boundedExcerpt(text, 20);
    expect(cut).toBe('result ok …');
    expect(boundedExcerpt('short', 20)).toBe('short');
  });
});
