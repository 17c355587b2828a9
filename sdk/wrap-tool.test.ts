import { describe, expect, it, vi } from 'vitest';
import { type AgentTrailOptions, createAgentTrail } from './client.js';
import { EventValidationError, RecordFailedError } from './errors.js';
import { AGENT, DECLARE, memoryTransport, wellFormed } from './test-helpers.js';
import { boundedExcerpt } from './wrap-tool.js';

async function setup(extra: Partial<AgentTrailOptions> = {}) {
  const mem = memoryTransport();
  const trail = createAgentTrail({ tenant: 'acme', agent: AGENT, transport: mem.transport, ...extra });
  const task = await trail.declareTask(DECLARE);
  const lastAction = async () => {
    await trail.flush();
    return mem.accepted().at(-1)!;
  };
  return { trail, task, lastAction };
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

describe('wrapTool never drops a record quietly', () => {
  const fail = (message: string) => async (_a?: unknown) => {
    throw new Error(message);
  };

  it('bounds the error message without cutting a surrogate pair in half', async () => {
    const { task, lastAction } = await setup();
    const message = `${'e'.repeat(511)}😀 and more`;
    const call = task.wrapTool('s3.get', { operation: 'read' }, fail(message));
    await expect(call()).rejects.toThrow(message);
    const e = await lastAction();
    expect(e.type).toBe('action');
    const data = e.data as { error: string; adjusted?: unknown };
    expect(wellFormed(data.error)).toBe(true);
    expect(data.error.length).toBeLessThanOrEqual(512);
    expect(data.adjusted).toEqual([
      { path: 'data.error', reason: 'truncated', original_length: message.length },
    ]);
  });

  it.each([
    ['a failed call', fail('timeout')],
    ['a successful call', async (_a?: unknown) => 'ok'],
  ])('records %s whose resource is over 512 characters: cut with a marker, and says so', async (_d, fn) => {
    const { task, lastAction } = await setup();
    const resource = `erp:invoices/${'x'.repeat(600)}`;
    const call = task.wrapTool('erp.invoices.get', { operation: 'read', resource }, fn);
    await call().catch(() => undefined);
    const e = await lastAction();
    expect(e.type).toBe('action');
    const data = e.data as { resource: string; adjusted?: unknown };
    expect(data.resource).toHaveLength(512);
    expect(data.resource).toBe(`${resource.slice(0, 511)}…`);
    expect(data.adjusted).toEqual([
      { path: 'data.resource', reason: 'truncated', original_length: resource.length },
    ]);
  });

  it('surfaces a failed call it cannot record: onError, the logger and stats(), tool error rethrown', async () => {
    const onError = vi.fn();
    const logger = { warn: vi.fn() };
    const { trail, task } = await setup({ onError, logger });
    const boom = new Error('403 from API');
    // An approval id with a space can be neither recorded nor cut into shape.
    const del = task.wrapTool('s3.delete', { operation: 'delete', approval_id: 'appr 9' }, async () => {
      throw boom;
    });
    await expect(del()).rejects.toBe(boom);
    expect(onError).toHaveBeenCalledTimes(1);
    const err = onError.mock.calls[0]![0] as RecordFailedError;
    expect(err).toBeInstanceOf(RecordFailedError);
    expect(err.cause).toBeInstanceOf(EventValidationError);
    expect(err.message).toMatch(/s3\.delete/);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/s3\.delete/), expect.anything());
    expect(trail.stats()).toMatchObject({ unrecorded: 1, refused: 0 });
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

  it('never leaves half a surrogate pair', () => {
    for (let max = 2; max < 30; max++) expect(wellFormed(boundedExcerpt('😀'.repeat(20), max))).toBe(true);
  });
});

describe('wrapTool targets (a declared mapping from arguments)', () => {
  type Mail = { to: string; cc?: string[]; bcc?: string; subject: string };
  const mailOpts = {
    operation: 'transfer' as const,
    targets: [
      { kind: 'recipient' as const, from: 'to', form: 'email' as const },
      { kind: 'recipient' as const, from: 'cc' },
      { kind: 'recipient' as const, from: 'bcc' },
    ],
  };

  it('records every recipient: lists, comma-separated addresses, each once, with its role', async () => {
    const { task, lastAction } = await setup();
    const send = task.wrapTool('mail.send', mailOpts, async (_m: Mail) => 'sent');
    await send({
      to: 'billing@partner.example',
      cc: ['a@acme.example', 'billing@partner.example'],
      bcc: 'x@evil.example; y@evil.example',
      subject: 'invoice',
    });
    const e = await lastAction();
    expect(e.type === 'action' && e.data.targets).toEqual([
      { kind: 'recipient', value: 'billing@partner.example', form: 'email', role: 'to' },
      { kind: 'recipient', value: 'a@acme.example', role: 'cc' },
      { kind: 'recipient', value: 'x@evil.example', role: 'bcc' },
      { kind: 'recipient', value: 'y@evil.example', role: 'bcc' },
    ]);
  });

  it('fills resource and destination from the first target of each kind, and keeps a given one first', async () => {
    const { task, lastAction } = await setup();
    const share = task.wrapTool(
      'drive.share',
      {
        operation: 'admin',
        resource: (a: { file: string; also: string[]; with: string }) => `drive:${a.file}`,
        targets: [
          { kind: 'resource', from: (a: { also: string[] }) => a.also.map((f) => `drive:${f}`) },
          { kind: 'destination', from: 'with' },
        ],
      },
      async (_a: { file: string; also: string[]; with: string }) => 'ok',
    );
    await share({ file: 'f1', also: ['f2', 'f1'], with: 'https://evil.example/upload' });
    const e = await lastAction();
    if (e.type !== 'action') throw new Error('not an action');
    expect(e.data.resource).toBe('drive:f1');
    expect(e.data.destination).toBe('https://evil.example/upload');
    expect(e.data.targets?.map((t) => `${t.kind}:${t.value}`)).toEqual([
      'resource:drive:f1',
      'resource:drive:f2',
      'destination:https://evil.example/upload',
    ]);
  });

  it('records no targets when the mapping finds none (the event is as before)', async () => {
    const { task, lastAction } = await setup();
    const send = task.wrapTool('mail.send', mailOpts, async (_m: Partial<Mail>) => 'sent');
    await send({ subject: 'nothing to anyone' });
    const e = await lastAction();
    expect(e.type === 'action' && 'targets' in e.data).toBe(false);
  });

  it('bounds the number of targets and says so in data.adjusted', async () => {
    const { task, lastAction } = await setup();
    const post = task.wrapTool(
      'chat.invite',
      { operation: 'admin', targets: [{ kind: 'recipient', from: 'users', form: 'chat_user' }] },
      async (_a: { users: string[] }) => 'ok',
    );
    await post({ users: Array.from({ length: 70 }, (_, i) => `u${i}`) });
    const e = await lastAction();
    if (e.type !== 'action') throw new Error('not an action');
    expect(e.data.targets).toHaveLength(64);
    expect(e.data.adjusted).toContainEqual({
      path: 'data.targets',
      reason: 'truncated',
      original_length: 70,
    });
  });
});
