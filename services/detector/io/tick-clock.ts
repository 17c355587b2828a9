/**
 * The time given to `detector.tick()`. The engine compares it with event times (a gap's first
 * buffered event, a partial match's first step), so wall-clock time would be wrong whenever the
 * detector reads history: replaying June's events in November would expire every partial match
 * between two batches and make the alerts depend on batch timing. Instead: the newest event time
 * processed, advanced by the wall time that has passed since it was processed. During a replay
 * batches follow each other in milliseconds, so the clock follows the events; when the topic is
 * quiet, it advances like a real clock, so open gaps are still declared after reorder_timeout_ms.
 */
export class TickClock {
  private eventMs = Number.NEGATIVE_INFINITY;
  private seenAtMs = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  /** Record that an event with this occurred_at (ms) was processed. */
  observe(occurredMs: number): void {
    if (occurredMs > this.eventMs) this.eventMs = occurredMs;
    this.seenAtMs = this.wallClock();
  }

  /** Undefined until an event was seen: nothing can be pending before that. */
  now(): number | undefined {
    if (this.eventMs === Number.NEGATIVE_INFINITY) return undefined;
    return this.eventMs + Math.max(0, this.wallClock() - this.seenAtMs);
  }
}
