import { Counter, Histogram, type Registry } from 'prom-client';
import { createStageMetrics, type StageMetrics } from '../platform/metrics.js';

// The stage families plus what a query service is judged by: requests by route and status
// class, and latency by route. Labels are the route pattern (`/v1/tasks/:task`), never a task,
// agent or tenant, so cardinality stays at the size of the route table.

export interface ApiMetrics extends StageMetrics {
  requests: Counter<'route' | 'method' | 'status'>;
  requestSeconds: Histogram<'route' | 'method'>;
  exportedRows: Counter<'route'>;
}

export function createApiMetrics(registry?: Registry): ApiMetrics {
  const base = createStageMetrics('api', registry);
  const requests = new Counter({
    name: 'agenttrail_api_requests_total',
    help: 'API requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [base.registry],
  });
  const requestSeconds = new Histogram({
    name: 'agenttrail_api_request_duration_seconds',
    help: 'Time from request to the end of the answer (streamed exports included), by route pattern',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [base.registry],
  });
  const exportedRows = new Counter({
    name: 'agenttrail_api_exported_rows_total',
    help: 'Events written by export endpoints',
    labelNames: ['route'],
    registers: [base.registry],
  });
  return { ...base, requests, requestSeconds, exportedRows };
}
