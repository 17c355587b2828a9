// How the SDK tells its caller about what it could not deliver: one place that counts, logs and
// calls `onError`, so no refusal and no failed record is ever silent.

/** The logger the SDK warns on (console by default); pino, winston and console all fit. */
export interface SdkLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ClientStats {
  /** Events the gateway accepted. */
  accepted: number;
  /** Events the gateway refused for good (a 4xx retrying cannot fix): never stored. */
  refused: number;
  /** Records that could not be made at all (a failed tool call's action that did not validate, buffer full, closed client). */
  unrecorded: number;
  /** Events recorded with fields the SDK had to cut or repair (listed in their `data.adjusted`). */
  adjusted: number;
  /** Events recorded but not yet accepted or refused. */
  pending: number;
}

export type Counter = Exclude<keyof ClientStats, 'pending'>;

export class Reporter {
  private readonly counts: Record<Counter, number> = { accepted: 0, refused: 0, unrecorded: 0, adjusted: 0 };

  constructor(
    private readonly onError?: (err: Error) => void,
    private readonly logger: SdkLogger | false = console,
  ) {}

  count(counter: Counter, n = 1): void {
    this.counts[counter] += n;
  }

  snapshot(): Record<Counter, number> {
    return { ...this.counts };
  }

  warn(message: string): void {
    if (this.logger) this.logger.warn(message);
  }

  /** Log and hand to onError. A throwing callback must not stop delivery, so it is contained. */
  surface(err: Error, fields: Record<string, unknown> = {}): void {
    if (this.logger) this.logger.warn(`agenttrail: ${err.message}`, { error: err.name, ...fields });
    try {
      this.onError?.(err);
    } catch (cbErr) {
      if (this.logger) {
        this.logger.warn(`agenttrail: onError threw: ${(cbErr as Error)?.message ?? String(cbErr)}`);
      }
    }
  }
}
