// Seq numbers for events built from spans whose instrumentation does not number them
// (no `agenttrail.seq`). Spans carry no per-task order, so this receiver numbers each task's events
// as they arrive: seq 1 is the declaration's (a span with agenttrail.task.intent, or the task
// declared separately through /v1/events), actions take 2, 3, … in arrival order (start time
// within one request).
//
// What this can and cannot vouch for (README, "OpenTelemetry GenAI receiver"):
// - an exporter's retry of the same span gets the same seq (remembered per event id), so a
//   resend is a redelivery, not a new event;
// - numbering lives in this process: after a restart, or with several gateway processes taking one
//   task's spans, two events get the same seq and the detector reports the conflict (AT-INT-003) —
//   visible, never silent. Instrumentation that sets agenttrail.seq avoids both;
// - a span the exporter never sent leaves no gap: completeness of such a task means "every span
//   that reached the receiver", not "every tool call".

interface TaskCounter {
  next: number;
  given: Map<string, number>;
}

export interface TaskSeqsOptions {
  /** Tasks numbered at once; the least recently used is forgotten beyond it. */
  maxTasks: number;
  /** Event ids remembered per task for retries. */
  maxRemembered: number;
}

export const DECLARATION_SEQ = 1;

export class TaskSeqs {
  private readonly tasks = new Map<string, TaskCounter>();

  constructor(private readonly opts: TaskSeqsOptions = { maxTasks: 100_000, maxRemembered: 1024 }) {}

  /** The seq of `eventId` in the task: the one it was given before, else the task's next. */
  seqFor(tenant: string, taskId: string, eventId: string): number {
    const key = `${tenant}\u0000${taskId}`;
    let t = this.tasks.get(key);
    if (t === undefined) {
      t = { next: DECLARATION_SEQ + 1, given: new Map() };
      if (this.tasks.size >= this.opts.maxTasks) {
        const oldest = this.tasks.keys().next().value;
        if (oldest !== undefined) this.tasks.delete(oldest);
      }
    } else this.tasks.delete(key); // re-inserted below: Map order is recency
    this.tasks.set(key, t);
    const known = t.given.get(eventId);
    if (known !== undefined) return known;
    const seq = t.next++;
    t.given.set(eventId, seq);
    if (t.given.size > this.opts.maxRemembered) {
      const first = t.given.keys().next().value;
      if (first !== undefined) t.given.delete(first);
    }
    return seq;
  }

  get size(): number {
    return this.tasks.size;
  }
}
