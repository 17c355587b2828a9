import { retryAfterMs } from '../platform/backoff.js';
import { pagerDutyBody } from './formats/pagerduty.js';
import { slackBody } from './formats/slack.js';
import { webhookBody } from './formats/webhook.js';
import type { Page } from './page.js';
import type { ResolvedDestination } from './routes.js';
import { SIGNATURE_HEADER, signatureHeader } from './sign.js';

export interface AttemptResult {
  outcome: 'delivered' | 'retry' | 'failed';
  http_status: number;
  latency_ms: number;
  /** Short reason; never the URL (it may carry a token) nor the receiver's body. */
  error: string;
  retry_after_ms?: number;
}

export type Sender = (dest: ResolvedDestination, page: Page) => Promise<AttemptResult>;

/** Request body and headers for one page to one destination. */
export function buildRequest(dest: ResolvedDestination, page: Page, nowMs = Date.now()) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'agenttrail-alerter/1',
  };
  let body: string;
  if (dest.type === 'webhook') {
    body = JSON.stringify(webhookBody(page));
    headers[SIGNATURE_HEADER] = signatureHeader(dest.signing_secret ?? '', body, nowMs);
    // Stable across retries and restarts: receivers may dedupe on it.
    headers['x-agenttrail-delivery'] = page.id;
  } else if (dest.type === 'slack') {
    body = JSON.stringify(slackBody(page));
  } else {
    body = JSON.stringify(pagerDutyBody(page, dest.routing_key ?? ''));
  }
  return { body, headers };
}

// 408 (timeout) and 429 (rate limited) are worth retrying; other 4xx mean the request itself
// is wrong (bad key, bad payload) and retrying cannot help.
const retriableStatus = (s: number) => s >= 500 || s === 408 || s === 429;

function reasonOf(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string }; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return String(e?.cause?.code ?? e?.code ?? e?.name ?? 'error').slice(0, 64);
}

/** One HTTP attempt with a hard deadline (`timeout_ms`), classified for the retry loop. */
export const httpSender: Sender = async (dest, page) => {
  const { body, headers } = buildRequest(dest, page);
  const started = performance.now();
  try {
    const res = await fetch(dest.target_url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(dest.timeout_ms),
    });
    // Drain the body so the connection returns to the pool; its content is not logged.
    await res.arrayBuffer().catch(() => undefined);
    const latency_ms = Math.round(performance.now() - started);
    if (res.ok) return { outcome: 'delivered', http_status: res.status, latency_ms, error: '' };
    return {
      outcome: retriableStatus(res.status) ? 'retry' : 'failed',
      http_status: res.status,
      latency_ms,
      error: `http ${res.status}`,
      retry_after_ms: retryAfterMs(res.headers.get('retry-after')),
    };
  } catch (err) {
    return {
      outcome: 'retry',
      http_status: 0,
      latency_ms: Math.round(performance.now() - started),
      error: reasonOf(err),
    };
  }
};
