// Per-key token buckets, counted in EVENTS (a 1,000-event batch costs 1,000 tokens): the
// resource being protected is Kafka and downstream work, which scales with events, not requests.

export interface Take {
  ok: boolean;
  /** When refused: seconds until the request's cost is available (for Retry-After). */
  retryAfterS: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(key: string, cost: number): Take {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.ratePerS);
    b.at = t;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { ok: true, retryAfterS: 0 };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((cost - b.tokens) / this.ratePerS)) };
  }
}
