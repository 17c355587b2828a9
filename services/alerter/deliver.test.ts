import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Deliverer, type Final } from './deliver.js';
import { DeliveryLog, type DeliveryRow, type DeliveryStore } from './delivery-log.js';
import { parseRoutes, resolveRouting } from './routes.js';
import type { AttemptResult, Sender } from './send.js';
import { makeAlert, makeStatus } from './testing.js';

const fast = { backoff_base_ms: 5, backoff_max_ms: 20, group_wait_ms: 10, group_interval_ms: 0 };
const routing = resolveRouting(
  parseRoutes({
    version: 1,
    destinations: {
      a: { type: 'webhook', url: 'http://a.invalid/', secret_env: 'S', max_attempts: 3, ...fast },
      b: { type: 'slack', url: 'http://b.invalid/', ...fast },
    },
    routes: [{ name: 'all', destinations: ['a', 'b'] }],
  }),
  { S: 'secret' },
);

function memoryStore(): DeliveryStore & { rows: DeliveryRow[] } {
  const rows: DeliveryRow[] = [];
  return {
    rows,
    write: async (r) => void rows.push(...r),
    prior: async () => ({ final: new Set(), attempts: new Map() }),
  };
}

const ok = (): AttemptResult => ({ outcome: 'delivered', http_status: 200, latency_ms: 1, error: '' });

function setup(send: Sender) {
  const store = memoryStore();
  const log = new DeliveryLog(store, pino({ level: 'silent' }), { flushIntervalMs: 5 });
  const d = new Deliverer({ routing, send, log, logger: pino({ level: 'silent' }), random: () => 0.5 });
  const submit = (dest: string, alert = makeAlert()) =>
    new Promise<{ final: Final; rowsAtDone: number }>((resolve) =>
      d.submit(alert, dest, (final) => resolve({ final, rowsAtDone: store.rows.length })),
    );
  return { d, store, submit };
}

describe('Deliverer', () => {
  it('retries 500s with backoff, logs every attempt, reports done after the final row is written', async () => {
    let calls = 0;
    const { store, submit } = setup(async () =>
      ++calls < 3 ? { outcome: 'retry', http_status: 500, latency_ms: 1, error: 'http 500' } : ok(),
    );
    const r = await submit('a');
    expect(r.final).toBe('delivered');
    expect(calls).toBe(3);
    expect(store.rows.map((x) => [x.attempt, x.status, x.http_status])).toEqual([
      [1, 'retry', 500],
      [2, 'retry', 500],
      [3, 'delivered', 200],
    ]);
    expect(r.rowsAtDone).toBe(3);
  });

  it('keeps counting attempts after a restart, and still makes one', async () => {
    const { d, store } = setup(async () => ({
      outcome: 'retry',
      http_status: 503,
      latency_ms: 1,
      error: 'http 503',
    }));
    const final = await new Promise<Final>((resolve) => d.submit(makeAlert(), 'a', resolve, 7));
    expect(final).toBe('failed');
    expect(store.rows.map((x) => [x.attempt, x.status])).toEqual([[8, 'failed']]);
  });

  it('gives up after max_attempts and on non-retriable answers', async () => {
    const { store, submit } = setup(async (dest) =>
      dest.name === 'a'
        ? { outcome: 'retry', http_status: 0, latency_ms: 1, error: 'ECONNREFUSED' }
        : { outcome: 'failed', http_status: 400, latency_ms: 1, error: 'http 400' },
    );
    expect((await submit('a')).final).toBe('failed');
    expect((await submit('b')).final).toBe('failed');
    expect(store.rows.map((x) => [x.destination, x.attempt, x.status])).toEqual([
      ['a', 1, 'retry'],
      ['a', 2, 'retry'],
      ['a', 3, 'failed'],
      ['b', 1, 'failed'],
    ]);
  });

  it('a hanging destination does not delay another', async () => {
    const { submit } = setup((dest) =>
      dest.name === 'a' ? new Promise<AttemptResult>(() => undefined) : Promise.resolve(ok()),
    );
    void submit('a');
    const started = Date.now();
    expect((await submit('b')).final).toBe('delivered');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a redelivered message joins the delivery in flight instead of sending again', async () => {
    let calls = 0;
    const { d } = setup(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return ok();
    });
    const alert = makeAlert();
    const finals = await Promise.all([
      new Promise<Final>((r) => d.submit(alert, 'b', r)),
      new Promise<Final>((r) => d.submit(alert, 'b', r)),
    ]);
    expect(finals).toEqual(['delivered', 'delivered']);
    expect(calls).toBe(1);
    expect(d.inFlight).toBe(0);
  });

  it('drain gives up at its deadline and leaves unfinished work unfinished', async () => {
    const { d } = setup(() => new Promise<AttemptResult>(() => undefined));
    let finished = false;
    d.submit(makeAlert(), 'a', () => {
      finished = true;
    });
    const started = Date.now();
    await d.drain(100);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(finished).toBe(false);
    expect(d.inFlight).toBe(1);
  });

  it('groups alerts with one dedup key into one page and completes each alert', async () => {
    const pages: number[] = [];
    const { store, submit } = setup(async (_d, page) => {
      pages.push(page.count);
      return ok();
    });
    const all = await Promise.all(
      Array.from({ length: 10 }, () => submit('b', makeAlert({ dedup_key: 'k' }))),
    );
    expect(all.every((r) => r.final === 'delivered')).toBe(true);
    expect(pages).toEqual([10]);
    expect(new Set(store.rows.map((r) => r.delivery_id)).size).toBe(1);
    expect(store.rows.every((r) => r.group_count === 10)).toBe(true);
  });

  it('a status follow-up is its own delivery, logged under its status_id, and joins a repeat in flight', async () => {
    const sent: Array<[string, string[] | undefined]> = [];
    const { d, store } = setup(async (_d, page) => {
      sent.push([page.status, page.record_ids]);
      await new Promise((r) => setTimeout(r, 20));
      return ok();
    });
    const alert = makeAlert();
    const change = makeStatus(alert, 'alert.acknowledged');
    const finals = await Promise.all([
      new Promise<Final>((r) => d.submit(alert, 'b', r)),
      new Promise<Final>((r) => d.submit(alert, 'b', r, 0, change)),
      new Promise<Final>((r) => d.submit(alert, 'b', r, 0, change)),
    ]);
    expect(finals).toEqual(['delivered', 'delivered', 'delivered']);
    expect(sent.sort()).toEqual([
      ['acknowledged', [change.status_id]],
      ['firing', [alert.alert_id]],
    ]);
    expect(store.rows.map((r) => r.alert_id).sort()).toEqual([alert.alert_id, change.status_id].sort());
    expect(new Set(store.rows.map((r) => r.delivery_id)).size).toBe(2);
  });
});
