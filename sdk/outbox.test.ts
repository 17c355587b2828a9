import { describe, expect, it, vi } from 'vitest';
import { createAgentTrail } from './client.js';
import {
  BatchRejectedError,
  BufferFullError,
  EventValidationError,
  GatewayUnavailableError,
} from './errors.js';
import type { WireEvent } from './seal.js';
import { AGENT, DECLARE, memoryTransport } from './test-helpers.js';
import type { SendResult, Transport } from './transport.js';

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
    logger: false,
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

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

/** A transport that answers each batch by looking at it (the gateway's limits, simulated). */
function judgingTransport(judge: (batch: readonly WireEvent[]) => SendResult) {
  const sent: WireEvent[][] = [];
  const stored: WireEvent[] = [];
  const transport: Transport = {
    async send(events) {
      sent.push([...events]);
      const result = judge(events);
      if (result.kind === 'accepted') stored.push(...events);
      return result;
    },
  };
  return { transport, sent, stored };
}

const TOO_LARGE: SendResult = {
  kind: 'rejected',
  status: 413,
  message: 'the body exceeds the limit',
  details: { code: 'AT_ERR_BODY_TOO_LARGE', message: 'the body exceeds the limit' },
};

describe('batches by bytes (issue 10, item 2)', () => {
  it('splits batches by bytes as well as by count (default budget 512 KiB)', async () => {
    const mem = memoryTransport();
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: mem.transport,
      batchSize: 200,
      flushIntervalMs: 60_000,
      logger: false,
    });
    const task = await trail.declareTask(DECLARE);
    // The case: 200 events of one task with 6 KB arguments, 1.27 MB in one batch today.
    for (let i = 0; i < 200; i++) await task.action({ ...ACTION, arguments: { blob: 'x'.repeat(6_000), i } });
    await trail.flush();
    expect(mem.batches.length).toBeGreaterThan(2);
    for (const b of mem.batches) expect(jsonBytes(b)).toBeLessThanOrEqual(512 * 1024);
    expect(mem.accepted().map((e) => e.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
  });

  it('splits a batch the gateway refuses as too large (413) and delivers every event, in order', async () => {
    const gw = judgingTransport((b) => (jsonBytes(b) > 40_000 ? TOO_LARGE : { kind: 'accepted' }));
    const onError = vi.fn();
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: gw.transport,
      batchSize: 100,
      flushIntervalMs: 60_000,
      onError,
      logger: false,
    });
    const task = await trail.declareTask(DECLARE);
    for (let i = 0; i < 60; i++) await task.action({ ...ACTION, arguments: { blob: 'y'.repeat(2_000) } });
    await trail.flush();
    expect(onError).not.toHaveBeenCalled();
    expect(gw.stored.map((e) => e.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    // Each refused request is split in two, so refusals stay few (a handful, not one per event).
    const refusedSends = gw.sent.filter((b) => jsonBytes(b) > 40_000).length;
    expect(refusedSends).toBeGreaterThan(0);
    expect(refusedSends).toBeLessThanOrEqual(5);
    expect(trail.stats()).toMatchObject({ accepted: 61, refused: 0, pending: 0 });
  });

  it('refuses a lone event the gateway finds too large once, surfaces it, and delivers the rest', async () => {
    let bad = '';
    const gw = judgingTransport((b) =>
      b.some((e) => e.event_id === bad) ? TOO_LARGE : { kind: 'accepted' },
    );
    const onError = vi.fn();
    const logger = { warn: vi.fn() };
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: gw.transport,
      batchSize: 8,
      flushIntervalMs: 60_000,
      onError,
      logger,
    });
    const task = await trail.declareTask(DECLARE);
    for (let i = 0; i < 7; i++) {
      const r = await task.action(ACTION);
      if (i === 3) bad = r.event_id;
    }
    const flushed = trail.flush();
    await expect(flushed).rejects.toBeInstanceOf(BatchRejectedError);
    await expect(flushed).rejects.toMatchObject({ status: 413, eventIds: [bad] });
    expect(gw.stored.map((e) => e.seq)).toEqual([1, 2, 3, 4, 6, 7, 8]);
    // Bisection: 8 → 4 → 2 → 1, never the same refused request again.
    expect(gw.sent.filter((b) => b.some((e) => e.event_id === bad)).map((b) => b.length)).toEqual([
      8, 4, 2, 1,
    ]);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/rejected 1 event/), expect.anything());
    expect(trail.stats()).toMatchObject({ accepted: 7, refused: 1, pending: 0 });
  });

  it('a 422 naming one event refuses only that one; the rest of the batch is resent', async () => {
    let bad = '';
    const gw = judgingTransport((b) => {
      const index = b.findIndex((e) => e.event_id === bad);
      if (index < 0) return { kind: 'accepted' };
      const results = b.map((e, i) =>
        i === index
          ? {
              index: i,
              status: 'rejected',
              event_id: e.event_id,
              errors: [{ path: 'data.resource', message: 'must be well-formed Unicode' }],
            }
          : { index: i, status: 'valid', event_id: e.event_id },
      );
      return {
        kind: 'rejected',
        status: 422,
        message: '1 of 3 event(s) are invalid; nothing was accepted',
        details: { code: 'AT_ERR_EVENT_INVALID', message: '1 of 3 event(s) are invalid', results },
      };
    });
    const onError = vi.fn();
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: gw.transport,
      flushIntervalMs: 60_000,
      onError,
      logger: false,
    });
    const task = await trail.declareTask(DECLARE);
    bad = (await task.action(ACTION)).event_id;
    await task.action(ACTION);
    await expect(trail.flush()).rejects.toMatchObject({
      name: 'BatchRejectedError',
      status: 422,
      code: 'AT_ERR_EVENT_INVALID',
      eventIds: [bad],
      message: expect.stringMatching(/data\.resource: must be well-formed Unicode/),
    });
    expect(gw.sent.map((b) => b.map((e) => e.seq))).toEqual([
      [1, 2, 3],
      [1, 3],
    ]);
    expect(gw.stored.map((e) => e.seq)).toEqual([1, 3]);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(trail.stats()).toMatchObject({ accepted: 2, refused: 1, pending: 0 });
  });

  it('fits a single action larger than the byte budget instead of making it undeliverable', async () => {
    const mem = memoryTransport();
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: mem.transport,
      maxBatchBytes: 16_384,
      logger: false,
    });
    const task = await trail.declareTask(DECLARE);
    await task.action({
      ...ACTION,
      arguments: { blob: 'a'.repeat(15_000) },
      output: { excerpt: 'word '.repeat(800) },
      error: 'e'.repeat(500),
    });
    await trail.flush();
    const e = mem.accepted().at(-1)!;
    expect(jsonBytes([e])).toBeLessThanOrEqual(16_384);
    const data = e.data as { adjusted?: Array<{ path: string }>; output?: { excerpt?: string } };
    expect(data.adjusted?.map((a) => a.path)).toContain('data.output.excerpt');
    expect(data.output?.excerpt?.endsWith('…')).toBe(true);
    expect(trail.stats()).toMatchObject({ accepted: 2, adjusted: 1 });
  });
});

describe('refusals settle only what they name', () => {
  /** A transport whose answers the test hands out one by one. */
  function steppedTransport() {
    const sent: WireEvent[][] = [];
    const answers: Array<(r: SendResult) => void> = [];
    const transport: Transport = {
      send(events) {
        sent.push([...events]);
        return new Promise<SendResult>((r) => answers.push(r));
      },
    };
    const answer = async (r: SendResult) => {
      await vi.waitFor(() => expect(answers.length).toBeGreaterThan(0));
      answers.shift()!(r);
    };
    return { transport, sent, answer };
  }

  it('a flush waits for its own events even when a later one of the same batch is refused first', async () => {
    const gw = steppedTransport();
    const trail = createAgentTrail({
      tenant: 'acme',
      agent: AGENT,
      transport: gw.transport,
      flushIntervalMs: 60_000,
      logger: false,
    });
    const task = await trail.declareTask(DECLARE);
    void trail.flush().catch(() => undefined); // sends [1], held
    await task.action(ACTION); // seq 2
    let settled = false;
    const flushed = trail.flush().finally(() => {
      settled = true;
    }); // waits for 1 and 2
    await task.action(ACTION); // seq 3, same next batch
    await gw.answer({ kind: 'accepted' });
    await gw.answer({
      kind: 'rejected',
      status: 422,
      message: 'invalid',
      details: { code: 'AT_ERR_EVENT_INVALID', results: [{ index: 1, status: 'rejected' }] },
    });
    await vi.waitFor(() => expect(gw.sent).toHaveLength(3));
    expect(gw.sent.map((b) => b.map((e) => e.seq))).toEqual([[1], [2, 3], [2]]);
    expect(settled).toBe(false); // seq 2 is not delivered yet
    await gw.answer({ kind: 'accepted' });
    await expect(flushed).rejects.toBeInstanceOf(BatchRejectedError);
    expect(trail.stats()).toMatchObject({ accepted: 2, refused: 1, pending: 0 });
  });

  it('keeps delivering when onError itself throws', async () => {
    const { trail, mem } = trailWith([{ kind: 'rejected', status: 400, message: 'bad' }], {
      onError: () => {
        throw new Error('callback bug');
      },
    });
    const task = await trail.declareTask(DECLARE);
    await expect(trail.flush()).rejects.toBeInstanceOf(BatchRejectedError);
    await task.action(ACTION);
    await trail.flush();
    expect(mem.accepted().map((e) => e.seq)).toEqual([2]);
  });

  it('refuses a byte budget too small for one event', () => {
    expect(() =>
      createAgentTrail({
        tenant: 'acme',
        agent: AGENT,
        transport: memoryTransport().transport,
        maxBatchBytes: 1000,
      }),
    ).toThrow(/maxBatchBytes/);
  });
});
