import { describe, expect, it, vi } from 'vitest';
import { createAgentTrail } from './client.js';
import {
  BatchRejectedError,
  BufferFullError,
  EventValidationError,
  GatewayUnavailableError,
} from './errors.js';
import { AGENT, DECLARE, memoryTransport } from './test-helpers.js';
import type { SendResult } from './transport.js';

const ACTION = { tool: 'github.issues.get', operation: 'read' as const, outcome: 'ok' as const };

function trailWith(
  script: Array<SendResult | (() => Promise<SendResult>)>,
  extra: Partial<Parameters<typeof createAgentTrail>[0]> = {},
) {
  const mem = memoryTransport(script);
  const sleeps: number[] = [];
  const trail = createAgentTrail({
    tenant: 'acme',
    agent: AGENT,
    transport: mem.transport,
    batchSize: 10,
    flushIntervalMs: 60_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { trail, mem, sleeps };
}

describe('batching', () => {
  it('sends full batches by size and the rest on flush', async () => {
    const { trail, mem } = trailWith([]);
    const task = await trail.declareTask(DECLARE);
    for (let i = 0; i < 24; i++) await task.action(ACTION);
    await vi.waitFor(() => expect(mem.batches.map((b) => b.length)).toEqual([10, 10]));
    await trail.flush();
    expect(mem.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(trail.pending).toBe(0);
  });

  it('sends on the interval without an explicit flush', async () => {
    const { trail, mem } = trailWith([], { flushIntervalMs: 20 });
    const task = await trail.declareTask(DECLARE);
    await task.action(ACTION);
    await vi.waitFor(() => expect(mem.accepted()).toHaveLength(2), { timeout: 1000 });
    await trail.close();
  });
});

describe('retries', () => {
  it('retries transient failures with backoff and honours Retry-After', async () => {
    const { trail, mem, sleeps } = trailWith([
      { kind: 'retry', message: 'network: ECONNREFUSED' },
      { kind: 'retry', status: 503, message: 'kafka down', retryAfterMs: 2000 },
      { kind: 'retry', status: 502, message: 'bad gateway' },
    ]);
    const task = await trail.declareTask(DECLARE);
    await task.action(ACTION);
    await trail.flush();
    expect(mem.batches).toHaveLength(4);
    expect(mem.batches.every((b) => b.length === 2)).toBe(true);
    // attempt 0: 0.5 × 200; attempt 1: Retry-After 2000 + 0.5 × 200; attempt 2: 0.5 × 800.
    expect(sleeps).toEqual([100, 2100, 400]);
  });

  it('never retries a 4xx rejection: surfaces it and carries on', async () => {
    const onError = vi.fn();
    const { trail, mem } = trailWith(
      [{ kind: 'rejected', status: 422, message: 'event 1: data.tool is required' }],
      { onError },
    );
    const task = await trail.declareTask(DECLARE);
    await expect(trail.flush()).rejects.toBeInstanceOf(BatchRejectedError);
    expect(mem.batches).toHaveLength(1);
    expect(onError).toHaveBeenCalledWith(expect.any(BatchRejectedError));
    await task.action(ACTION);
    await trail.flush();
    expect(mem.batches).toHaveLength(2);
  });

  it('keeps events buffered when retries run out, and delivers them on the next flush', async () => {
    const down: SendResult = { kind: 'retry', message: 'network: ECONNREFUSED' };
    const { trail, mem } = trailWith([down, down, down], { retry: { maxAttempts: 3 } });
    const task = await trail.declareTask(DECLARE);
    await task.action(ACTION);
    await expect(trail.flush()).rejects.toBeInstanceOf(GatewayUnavailableError);
    expect(trail.pending).toBe(2);
    await trail.flush();
    expect(mem.accepted().map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('bounded buffer', () => {
  it('applies backpressure when full, then refuses without consuming a seq', async () => {
    let release!: () => void;
    const gate = new Promise<SendResult>((r) => {
      release = () => r({ kind: 'accepted' });
    });
    const { trail, mem } = trailWith([() => gate], {
      bufferCapacity: 3,
      batchSize: 3,
      bufferFullTimeoutMs: 50,
    });
    const task = await trail.declareTask(DECLARE);
    await task.action(ACTION);
    await task.action(ACTION); // buffer now full (3) and the batch is in flight, held by `gate`
    await expect(task.action(ACTION)).rejects.toBeInstanceOf(BufferFullError);
    const waiting = task.action(ACTION); // waits for room …
    release(); // … which the accepted batch makes
    await expect(waiting).resolves.toMatchObject({ seq: 4 });
    await trail.flush();
    expect(mem.accepted().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('validation', () => {
  it('refuses an invalid event locally, naming the field, without consuming a seq', async () => {
    const { trail, mem } = trailWith([]);
    const task = await trail.declareTask(DECLARE);
    const bad = task.action({ ...ACTION, operation: 'steal' as 'read' });
    await expect(bad).rejects.toBeInstanceOf(EventValidationError);
    await expect(bad).rejects.toThrow(/data\.operation/);
    await task.action(ACTION);
    await trail.flush();
    expect(mem.accepted().map((e) => e.seq)).toEqual([1, 2]);
  });

  it('refuses events after task.ended', async () => {
    const { trail } = trailWith([]);
    const task = await trail.declareTask(DECLARE);
    await task.end({ outcome: 'completed' });
    await expect(task.action(ACTION)).rejects.toThrow(/has ended/);
  });

  it('delegation records the child task id for the child to declare', async () => {
    const { trail, mem } = trailWith([]);
    const task = await trail.declareTask(DECLARE);
    const { child_task_id } = await task.delegate({ scope: {}, child_agent_id: 'agent-8' });
    const child = await trail.declareTask({
      ...DECLARE,
      declared_by: { kind: 'task', id: task.id },
      parent_task_id: task.id,
      task_id: child_task_id,
    });
    await trail.flush();
    const events = mem.accepted();
    expect(events[1]).toMatchObject({ type: 'task.delegated', data: { child_task_id } });
    expect(events[2]).toMatchObject({ task_id: child.id, parent_task_id: task.id, seq: 1 });
  });
});
