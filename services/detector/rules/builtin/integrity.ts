import type { AgentEvent } from '../../../../schemas/index.js';
import { fastEventHash } from '../../../platform/chain-hash.js';
import { parseIsoMs } from '../../../platform/iso-time.js';
import type { HashCheck } from '../../../platform/kafka/headers.js';
import { append } from '../../append.js';
import type { DetectorConfig } from '../../config.js';
import { TaskFlag, type TaskState } from '../../state/types.js';
import type { Emit } from './context.js';

// Record integrity: the hash chain (schemas/chain.ts) and the clocks. Gaps and conflicting
// duplicates are found by the ordering step (state/order.ts) and raised by the engine.

export function checkChain(
  task: TaskState,
  event: AgentEvent,
  cfg: Readonly<DetectorConfig>,
  emit: Emit,
  /** The gateway's verdict on the content hash, when trusted; otherwise it is recomputed. */
  hashCheck?: HashCheck,
): void {
  if (cfg.verify_hash === 'off') return;
  const seq = event.seq;
  if (event.hash === undefined) {
    if (task.chained)
      emit('AT-INT-002', { seq, detail: 'the event carries no hash although earlier ones did' });
    return;
  }
  // One alert per event, listing every problem: the alert id is per (rule, task, evidence).
  // Created on the first problem only: most events have none.
  let problems: string[] | undefined;
  const prev = event.prev_hash ?? null;
  if (seq === 1) {
    if (prev !== null) problems = append(problems, 'the first event names a previous hash');
  } else if (typeof task.lastHash === 'string' && prev !== task.lastHash) {
    problems = append(problems, `prev_hash does not match the hash of seq ${seq - 1}`);
  }
  if (cfg.verify_hash === 'full' && (hashCheck ?? recompute(event)) === 'mismatch') {
    problems = append(problems, 'the content does not match its hash (altered after it was written)');
  }
  if (problems !== undefined) emit('AT-INT-002', { seq, detail: problems.join('; ') });
}

function recompute(event: AgentEvent): HashCheck {
  return fastEventHash(event) === event.hash ? 'ok' : 'mismatch';
}

/** Flag agent clocks far from the gateway's, once per task: time checks depend on them. */
export function checkClock(
  task: TaskState,
  event: AgentEvent,
  atMs: number,
  cfg: Readonly<DetectorConfig>,
  emit: Emit,
): void {
  if (event.received_at === undefined || (task.flags & TaskFlag.DriftReported) !== 0) return;
  const drift = parseIsoMs(event.received_at) - atMs;
  if (Math.abs(drift) > cfg.max_clock_drift_ms) {
    task.flags |= TaskFlag.DriftReported;
    emit('AT-INT-005', {
      occurred_at: event.occurred_at,
      received_at: event.received_at,
      drift_s: Math.round(drift / 1000),
    });
  }
}
