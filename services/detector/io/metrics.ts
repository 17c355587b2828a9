import { Counter, Gauge, type Registry } from 'prom-client';

/** Detector families beyond the shared stage metrics. Rule ids are few and fixed: a safe label. */
export interface DetectorMetrics {
  alertsByRule: Counter<'rule'>;
  suppressed: Counter<string>;
  rulesReloads: Counter<'result'>;
  /** A snapshot of `bytes` was written (sets size and resets the age). */
  recordSnapshot(bytes: number): void;
}

export function createDetectorMetrics(registry: Registry): DetectorMetrics {
  let lastSnapshotMs = Date.now();
  new Gauge({
    name: 'agenttrail_detector_snapshot_age_seconds',
    help: 'Seconds since the last state snapshot (and offset commit)',
    registers: [registry],
    collect() {
      this.set((Date.now() - lastSnapshotMs) / 1000);
    },
  });
  const snapshotBytes = new Gauge({
    name: 'agenttrail_detector_snapshot_bytes',
    help: 'Size of the last state snapshot',
    registers: [registry],
  });
  return {
    alertsByRule: new Counter({
      name: 'agenttrail_detector_alerts_total',
      help: 'Alerts published, by rule id',
      labelNames: ['rule'],
      registers: [registry],
    }),
    suppressed: new Counter({
      name: 'agenttrail_detector_alerts_suppressed_total',
      help: 'Replayed alerts not published again because they were already stored',
      registers: [registry],
    }),
    rulesReloads: new Counter({
      name: 'agenttrail_detector_rules_reloads_total',
      help: 'Rules reloads by result (ok, rejected)',
      labelNames: ['result'],
      registers: [registry],
    }),
    recordSnapshot(bytes) {
      lastSnapshotMs = Date.now();
      snapshotBytes.set(bytes);
    },
  };
}
