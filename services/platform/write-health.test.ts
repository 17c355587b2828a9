import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { serveMetrics } from './metrics.js';
import { WriteHealth } from './write-health.js';

// Issue 10 item 1: an ingester retrying a refused batch for ever still answered ok on /healthz
// and said nothing in its metrics. A stage whose writes fail longer than the set time is not ready.

function setup() {
  let now = 1_000_000;
  const registry = new Registry();
  const health = new WriteHealth({ stage: 'ingester', notReadyAfterMs: 30_000, registry, now: () => now });
  return { health, registry, advance: (ms: number) => (now += ms) };
}

describe('WriteHealth', () => {
  it('is ready through short failures, not ready after the set time, ready again on success', () => {
    const { health, advance } = setup();
    health.failed('clickhouse', new Error('ECONNREFUSED'));
    advance(29_000);
    health.failed('clickhouse', new Error('ECONNREFUSED'));
    expect(health.readiness()).toEqual({ ok: true });
    advance(2_000);
    expect(health.readiness()).toEqual({
      ok: false,
      reason: 'clickhouse writes failing for 31 s: ECONNREFUSED',
    });
    health.succeeded('clickhouse');
    expect(health.readiness()).toEqual({ ok: true });
  });

  it('says in a metric which target fails and for how long', async () => {
    const { health, registry, advance } = setup();
    health.failed('kafka', new Error('broker away'));
    advance(45_000);
    const text = await registry.metrics();
    expect(text).toContain('agenttrail_write_failing_seconds{stage="ingester",target="kafka"} 45');
    expect(text).toContain('agenttrail_write_failing_seconds{stage="ingester",target="clickhouse"} 0');
    expect(text).toContain('agenttrail_ready{stage="ingester"} 0');
  });

  it('is served on /readyz (503 with the reason) while /healthz stays about liveness', async () => {
    const { health, registry, advance } = setup();
    const server = await serveMetrics(registry, { port: 0, ready: () => health.readiness() });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      health.failed('clickhouse', new Error('code 25'));
      advance(60_000);
      const r = await fetch(`${base}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ ok: false, reason: 'clickhouse writes failing for 60 s: code 25' });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
