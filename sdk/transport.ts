import type { WireEvent } from './seal.js';
import { truncate } from './text.js';

// How batches leave the process. Injectable, so tests (and collectors with their own channel)
// need no HTTP. A transport never throws for an HTTP status: it classifies the answer.

export type SendResult =
  | { kind: 'accepted' }
  /** Transient (network, 408, 429, 5xx): send the same batch again, no sooner than retryAfterMs. */
  | { kind: 'retry'; message: string; status?: number; retryAfterMs?: number }
  /** Permanent (other 4xx): retrying the same bytes cannot succeed. */
  | { kind: 'rejected'; status: number; message: string; details?: unknown };

export interface Transport {
  send(events: readonly WireEvent[]): Promise<SendResult>;
}

export interface HttpTransportOptions {
  /** Gateway base URL, e.g. `https://agenttrail.internal:8080`. */
  endpoint: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** `Retry-After` is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function classifyStatus(status: number): 'accepted' | 'retry' | 'rejected' {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

export function httpTransport(opts: HttpTransportOptions): Transport {
  const url = `${opts.endpoint.replace(/\/+$/, '')}/v1/events`;
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return {
    async send(events) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey}` },
          body: JSON.stringify(events),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return { kind: 'retry', message: `network: ${(err as Error).message}` };
      }
      const text = await res.text().catch(() => '');
      const kind = classifyStatus(res.status);
      if (kind === 'accepted') return { kind };
      let details: unknown = text;
      try {
        details = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const message =
        (details as { message?: string } | null)?.message ??
        `HTTP ${res.status} ${truncate(text, { maxLength: 200 })}`;
      if (kind === 'retry') {
        return {
          kind,
          status: res.status,
          message,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
        };
      }
      return { kind, status: res.status, message, details };
    },
  };
}
