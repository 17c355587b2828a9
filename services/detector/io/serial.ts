/**
 * Runs jobs one at a time, in submission order. The detector engine is not re-entrant: a Kafka
 * batch, a timer tick, a snapshot and a rules swap must never interleave their awaits.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(job);
    // The chain survives a failed job; the caller still sees its rejection.
    this.tail = result.catch(() => {});
    return result;
  }

  /** Resolves once every job submitted so far has finished. */
  idle(): Promise<void> {
    return this.run(() => {});
  }
}
