import { Counter, Histogram, type Registry } from 'prom-client';
import { createStageMetrics, type StageMetrics } from '../platform/metrics.js';

// The stage families (received / sent / errors / dropped by reason) plus produce latency.
// `received` counts events parsed from requests, `sent` events Kafka acknowledged, and
// `dropped{reason}` events answered with a 4xx/503 (reason = error code, low cardinality).

export interface GatewayMetrics extends StageMetrics {
  produceSeconds: Histogram<'stage'>;
  /** OTLP spans by what became of them: accepted, ignored (not an agent span) or rejected, by reason. */
  otlpSpans: Counter<'result' | 'reason'>;
}

export function createGatewayMetrics(registry?: Registry): GatewayMetrics {
  const base = createStageMetrics('gateway', registry);
  const produceSeconds = new Histogram({
    name: 'agenttrail_gateway_produce_duration_seconds',
    help: 'Time from produce call to Kafka acknowledgement (acks=all), per request',
    labelNames: ['stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [base.registry],
  });
  const otlpSpans = new Counter({
    name: 'agenttrail_otlp_spans_total',
    help: 'OTLP spans received on /v1/traces, by result (accepted, ignored, rejected) and reason',
    labelNames: ['result', 'reason'],
    registers: [base.registry],
  });
  return { ...base, produceSeconds, otlpSpans };
}
