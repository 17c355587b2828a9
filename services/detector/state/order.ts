import type { AgentEvent } from '../../../schemas/index.js';
import { idHash } from './ids.js';
import type { TaskState } from './types.js';

// Per-task ordering. Events of a task are folded in seq order, whatever order they arrive in:
//
//   seq == next expected            → process (then drain the reorder buffer)
//   seq >  next expected            → buffer (up to reorder_window_events); on overflow, or when
//                                     tick()/flush() says the wait is over, the gap is declared
//                                     (AT-INT-001) and processing resumes at the buffered seq
//   seq <  next, same event_id      → redelivery: ignored silently
//   seq <  next, inside a declared  → late: evaluated for its content, outside the hash chain
//   gap
//   seq <  next, different event_id → conflicting duplicate (AT-INT-003), not folded
//   seq older than recent_seqs      → stale: cannot be judged any more; ignored and counted

export type Admission = 'process' | 'duplicate' | 'conflict' | 'buffered' | 'late' | 'stale';

const MAX_GAPS = 8;

function inGap(task: TaskState, seq: number): number {
  const gaps = task.gaps;
  if (gaps === undefined) return -1;
  for (let i = 0; i < gaps.length; i += 2) if (seq >= gaps[i]! && seq <= gaps[i + 1]!) return i;
  return -1;
}

/** Remove `seq` from the declared gap that holds it (splitting the gap if needed). */
function fillGap(task: TaskState, index: number, seq: number): void {
  const gaps = task.gaps!;
  const from = gaps[index]!;
  const to = gaps[index + 1]!;
  const parts: number[] = [];
  if (from <= seq - 1) parts.push(from, seq - 1);
  if (seq + 1 <= to) parts.push(seq + 1, to);
  gaps.splice(index, 2, ...parts);
  if (gaps.length === 0) delete task.gaps;
}

export function admit(task: TaskState, event: AgentEvent, atMs: number): Admission {
  const seq = event.seq;
  const next = task.lastSeq + 1;
  if (seq === next) return 'process';
  if (seq < next) {
    const gap = inGap(task, seq);
    if (gap >= 0) {
      fillGap(task, gap, seq);
      return 'late';
    }
    if (task.lastSeq - seq >= task.recent.length) return 'stale';
    return task.recent[seq % task.recent.length] === idHash(event.event_id) ? 'duplicate' : 'conflict';
  }
  // Ahead of the expected seq: hold it back until the gap fills.
  task.pending ??= [];
  const pending = task.pending;
  let i = pending.length;
  while (i > 0 && pending[i - 1]!.seq > seq) i--;
  const same = pending[i - 1];
  if (same !== undefined && same.seq === seq)
    return same.event_id === event.event_id ? 'duplicate' : 'conflict';
  pending.splice(i, 0, event);
  if (pending.length === 1) task.pendingSinceMs = atMs;
  return 'buffered';
}

/** Next buffered event that is now in order, removed from the buffer. */
export function takeReady(task: TaskState): AgentEvent | undefined {
  const pending = task.pending;
  if (pending === undefined || pending.length === 0) return undefined;
  if (pending[0]!.seq !== task.lastSeq + 1) return undefined;
  const event = pending.shift()!;
  if (pending.length === 0) {
    delete task.pending;
    delete task.pendingSinceMs;
  }
  return event;
}

export function bufferOverflowing(task: TaskState, windowEvents: number): boolean {
  return task.pending !== undefined && task.pending.length > windowEvents;
}

export interface DeclaredGap {
  from: number;
  to: number;
  /** The first event after the gap (evidence). */
  after: AgentEvent;
}

/** Give up waiting: skip to the first buffered seq. The chain link across the gap is unknown. */
export function declareGap(task: TaskState): DeclaredGap | undefined {
  const first = task.pending?.[0];
  if (first === undefined) return undefined;
  const gap = { from: task.lastSeq + 1, to: first.seq - 1, after: first };
  task.gaps ??= [];
  if (task.gaps.length >= MAX_GAPS * 2) task.gaps.splice(0, 2);
  task.gaps.push(gap.from, gap.to);
  task.lastSeq = first.seq - 1;
  delete task.lastHash;
  return gap;
}
