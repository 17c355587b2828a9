import { Gauge, type Registry } from 'prom-client';

// Readiness of a stage that writes: a stage whose writes to ClickHouse or Kafka have failed
// without a success for longer than `notReadyAfterMs` is not ready (/readyz 503), so an
// orchestrator or an on-call sees a wedge instead of a healthy process storing nothing. Retries
// go on meanwhile; readiness returns with the first success. `agenttrail_write_failing_seconds`
// says which target fails and for how long.

export type WriteTarget = 'clickhouse' | 'kafka';

export interface Readiness {
  ok: boolean;
  reason?: string;
}

export class WriteHealth {
  private readonly since = new Map<WriteTarget, { at: number; error: string }>();

  constructor(
    private readonly opts: { stage: string; notReadyAfterMs: number; registry: Registry; now?: () => number },
  ) {
    const self = this;
    new Gauge({
      name: 'agenttrail_write_failing_seconds',
      help: 'Seconds since writes to the target began failing without a success (0 while they succeed)',
      labelNames: ['stage', 'target'],
      registers: [opts.registry],
      collect() {
        for (const target of ['clickhouse', 'kafka'] as const)
          this.set({ stage: opts.stage, target }, self.failingMs(target) / 1000);
      },
    });
    new Gauge({
      name: 'agenttrail_ready',
      help: '1 when the stage is ready (its writes succeed), 0 when /readyz answers 503',
      labelNames: ['stage'],
      registers: [opts.registry],
      collect() {
        this.set({ stage: opts.stage }, self.readiness().ok ? 1 : 0);
      },
    });
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** A write to `target` failed; the clock starts at the first failure after a success. */
  failed(target: WriteTarget, err: unknown): void {
    const error = String((err as Error)?.message ?? err).slice(0, 200);
    const cur = this.since.get(target);
    this.since.set(target, { at: cur?.at ?? this.now(), error });
  }

  succeeded(target: WriteTarget): void {
    this.since.delete(target);
  }

  failingMs(target: WriteTarget): number {
    const cur = this.since.get(target);
    return cur ? this.now() - cur.at : 0;
  }

  readiness(): Readiness {
    for (const [target, { error }] of this.since) {
      const ms = this.failingMs(target);
      if (ms > this.opts.notReadyAfterMs)
        return { ok: false, reason: `${target} writes failing for ${Math.round(ms / 1000)} s: ${error}` };
    }
    return { ok: true };
  }
}
