import type { AgentEvent, ApprovalTarget, Scope } from '../../../schemas/index.js';

// Per-task state folded from events. Kept compact (10,000 active tasks is the design point) and
// plain JSON so a snapshot is `JSON.stringify`. Optional members are absent until first needed.

export interface ApprovalState {
  status: 'requested' | 'granted' | 'denied';
  target?: ApprovalTarget;
  approver?: string;
  /** Event id of the grant/denial, for evidence. */
  event?: string;
  expiresMs?: number;
  usesLeft?: number;
  /** Action event ids this approval covered, in order (bounded). */
  covered?: string[];
}

export interface TaskState {
  id: string;
  tenant: string;
  agentId: string;
  workloadIdentity?: string;
  /** Declared by `task.declared`, or implicitly by a parent's `task.delegated`. */
  declared: boolean;
  scope?: Scope;
  declaredScope?: Scope;
  /** First 256 characters of the declared (or latest approved) intent. */
  intent?: string;
  /** `kind:id` of the declaring principal. */
  declaredBy?: string;
  expiresMs?: number;
  parent?: string;
  children?: string[];
  ended: boolean;
  actions: number;
  lastSeq: number;
  /** Hash of the last processed event; null when it carried none; absent when unknown (after a gap). */
  lastHash?: string | null;
  /** True once any event of the task carried a hash: from then on a missing hash is a break. */
  chained?: boolean;
  lastAtMs: number;
  /** 52-bit hashes of event ids by `seq % recent_seqs`: redelivery vs conflicting duplicate. */
  recent: number[];
  /** Declared gaps as flat [from, to] pairs (bounded): late events filling them are not conflicts. */
  gaps?: number[];
  /** Reorder buffer: events ahead of the next expected seq, sorted by seq. */
  pending?: AgentEvent[];
  /** When the oldest buffered event was buffered (event time), for `tick()`. */
  pendingSinceMs?: number;
  approvals?: Record<string, ApprovalState>;
  /** Seq of the last scope change made without an approval. */
  unapprovedChangeSeq?: number;
  /** Fingerprints of values first seen in tool output (untrusted origin), bounded, oldest first. */
  outputFps?: string[];
  /** Event id in whose output each `outputFps` entry first appeared (parallel array). */
  outputSrc?: string[];
  /** Fingerprints named by the declaration or an approved scope change (trusted origin). */
  trustedFps?: string[];
  /** Once-per-task alert flags (bit set). */
  flags: number;
  /** Baseline risk signals and the task's score (baselines/risk.ts); absent until the first. */
  risk?: TaskRisk;
  /** Event time of the task's latest alert other than a risk one (baselines/risk.ts). */
  lastAlertMs?: number;
}

/** One baseline finding kept on its task (baselines/risk.ts). */
export interface RiskSignalState {
  /** Baseline rule id, e.g. `AT-BASE-002`. */
  rule: string;
  /** Weight it added to the task's score (0 when its rule had already counted). */
  score: number;
  /** Event id of the action, its `occurred_at`, and that time in ms. */
  event: string;
  at: string;
  atMs: number;
  /** The rule's explanation for that action. */
  text: string;
}

export interface TaskRisk {
  /** Accumulated risk score of the task. */
  score: number;
  /** Signals, oldest first, bounded by `max_signals_per_task` (the score keeps the dropped ones). */
  signals: RiskSignalState[];
  /** Rules whose weight the score already holds (each counts once unless `repeat_signals_score`). */
  counted: string[];
  /** True once the signals paged on their own (AT-BASE-005: once per task). */
  paged?: boolean;
}

export const TaskFlag = {
  DriftReported: 1,
  UndeclaredReported: 2,
  BudgetReported: 4,
} as const;

export interface CredentialState {
  /** Task on whose stream the credential was issued. */
  task: string;
  forTask: string;
  kind: string;
  expMs: number;
  revokedMs?: number;
  issuedEvent: string;
  revokedEvent?: string;
}

/** Everything the detector knows, per tenant. Maps in memory; objects in a snapshot. */
export interface DetectorState {
  tasks: Map<string, Map<string, TaskState>>;
  credentials: Map<string, Map<string, CredentialState>>;
}

export function emptyDetectorState(): DetectorState {
  return { tasks: new Map(), credentials: new Map() };
}
