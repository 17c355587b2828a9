import { Counter, Histogram, type Registry } from 'prom-client';

// Alerter-specific families next to the shared stage metrics. Labels are the destination
// type and its configured name (a handful), never alert, task or tenant ids.

export interface AlerterMetrics {
  attempts: Counter<'type' | 'destination' | 'outcome'>;
  pages: Counter<'type' | 'destination' | 'outcome'>;
  requestSeconds: Histogram<'type' | 'outcome'>;
  pageAgeSeconds: Histogram<'type'>;
}

export function createAlerterMetrics(registry: Registry): AlerterMetrics {
  return {
    attempts: new Counter({
      name: 'agenttrail_alerter_attempts_total',
      help: 'HTTP attempts to destinations, by outcome (delivered, retry, failed)',
      labelNames: ['type', 'destination', 'outcome'],
      registers: [registry],
    }),
    pages: new Counter({
      name: 'agenttrail_alerter_pages_total',
      help: 'Pages that reached a final outcome (delivered or failed)',
      labelNames: ['type', 'destination', 'outcome'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'agenttrail_alerter_delivery_seconds',
      help: 'Latency of one delivery attempt, per destination type',
      labelNames: ['type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    pageAgeSeconds: new Histogram({
      name: 'agenttrail_alerter_page_age_seconds',
      help: 'From alert creation to the destination accepting its page (grouping wait and retries included)',
      labelNames: ['type'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}
