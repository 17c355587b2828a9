import { z } from 'zod';

// Detector settings: one zod schema, parsed once, frozen. Units are in the names.

const Weight = z.number().nonnegative().max(1000);

/**
 * Baseline findings are risk signals kept on their task, not pages (baselines/risk.ts). A signal
 * rides as context on any other alert of the task raised within `combine_window_ms` after it;
 * alone, signals page only as AT-BASE-005 once the task's score reaches `page_score`.
 */
export const RiskConfig = z.strictObject({
  /** Score at which a task's signals page on their own (AT-BASE-005). */
  page_score: z.number().positive().default(5),
  /** A signal accompanies the task's other alerts raised this long after it (event time). */
  combine_window_ms: z.number().int().positive().default(600_000),
  /** Weight of each baseline rule's signal in the task's score. */
  weights: z
    .strictObject({
      'AT-BASE-001': Weight.default(3),
      'AT-BASE-002': Weight.default(2),
      'AT-BASE-003': Weight.default(2),
      'AT-BASE-004': Weight.default(3),
    })
    .default({ 'AT-BASE-001': 3, 'AT-BASE-002': 2, 'AT-BASE-003': 2, 'AT-BASE-004': 3 }),
  /**
   * When false (default), each rule adds its weight once per task: three first uses in one task
   * are one kind of evidence, not three, so a detector that has seen more (and so notices more
   * first uses) does not page more for it. When true, every signal adds its weight.
   */
  repeat_signals_score: z.boolean().default(false),
  /** Signals kept per task (over it the oldest that added nothing is dropped, else the oldest; the score keeps them). */
  max_signals_per_task: z.number().int().positive().max(16).default(8),
  /** Per-tenant overrides of `page_score`. */
  tenants: z.record(z.string().min(1), z.strictObject({ page_score: z.number().positive() })).default({}),
});
export type RiskConfig = z.infer<typeof RiskConfig>;

export const BaselineConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Width of one action-rate bucket. */
  bucket_ms: z.number().int().positive().default(60_000),
  /** Completed buckets kept per identity for the median/MAD baseline. */
  history_buckets: z.number().int().min(3).max(1440).default(60),
  /** Completed buckets needed before the rate detector may fire. */
  warmup_buckets: z.number().int().min(2).default(10),
  /** Fire when a bucket exceeds median + k × scaled MAD … */
  rate_mad_k: z.number().positive().default(6),
  /** … and also exceeds the median by at least this many actions (guards near-zero MAD). */
  rate_min_excess: z.number().int().nonnegative().default(30),
  /** Actions an identity must have made before a first-ever tool/resource class is notable. */
  first_use_warmup_actions: z.number().int().nonnegative().default(200),
  /** Tools and resource classes remembered per identity (bounded memory). */
  max_known_per_identity: z.number().int().positive().default(512),
  /** Fixed window over which distinct resources are counted. */
  fanout_window_ms: z.number().int().positive().default(300_000),
  /** Distinct resources per window that count as unusual fan-out. */
  fanout_distinct_resources: z.number().int().positive().default(100),
  /** How findings become risk signals and when they page. */
  risk: RiskConfig.default(RiskConfig.parse({})),
});
export type BaselineConfig = z.infer<typeof BaselineConfig>;

export const DetectorConfig = z.strictObject({
  /** Allowance before an expiry (credential, approval, scope, task) counts as passed. */
  clock_skew_ms: z.number().int().nonnegative().default(120_000),
  /** |received_at − occurred_at| above this is an integrity signal (reported once per task). */
  max_clock_drift_ms: z.number().int().positive().default(300_000),
  /** Out-of-order events buffered per task while waiting for a missing seq; beyond it the gap is declared. */
  reorder_window_events: z.number().int().nonnegative().max(1024).default(32),
  /** How long `tick()` lets a gap stay open before declaring it. */
  reorder_timeout_ms: z.number().int().positive().default(30_000),
  /**
   * An ended task's state is dropped this long (event time) after its last event, so memory and
   * snapshots stay bounded. A later event for it then counts as an action for an undeclared task.
   */
  ended_task_retention_ms: z.number().int().positive().default(3_600_000),
  /** Recent seqs remembered per task to tell redeliveries from conflicting duplicates. */
  recent_seqs: z.number().int().min(1).max(1024).default(16),
  /** `full` verifies each event's hash (schemas/chain.ts) as well as its prev_hash link; `link` checks the link only. */
  verify_hash: z.enum(['full', 'link', 'off']).default('full'),
  /**
   * With `full`, take the gateway's hash verdict (its x-agenttrail-validated mark) for events that carry one
   * instead of recomputing the SHA-256: the check happens once, at the edge.
   */
  trust_hash_check: z.boolean().default(true),
  /** Pending partial matches kept per sequence rule and key; the oldest is dropped on overflow. */
  max_partials_per_key: z.number().int().positive().max(1024).default(16),
  /** Fingerprints of values first seen in tool output, kept per task for provenance checks. */
  max_output_fps_per_task: z.number().int().nonnegative().max(4096).default(64),
  /** Operations treated as high impact by sequence macros and drift checks. */
  high_impact_operations: z
    .array(z.enum(['read', 'write', 'execute', 'delete', 'transfer', 'delegate', 'admin']))
    .default(['write', 'delete', 'transfer', 'admin', 'delegate']),
  /** Base URL of the API, for alert links. */
  link_base_url: z.string().url().optional(),
  baselines: BaselineConfig.default(BaselineConfig.parse({})),
});
export type DetectorConfig = z.infer<typeof DetectorConfig>;
export type DetectorConfigInput = z.input<typeof DetectorConfig>;

export function parseDetectorConfig(input: DetectorConfigInput = {}): Readonly<DetectorConfig> {
  return Object.freeze(DetectorConfig.parse(input));
}
