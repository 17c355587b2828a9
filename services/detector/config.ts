import { z } from 'zod';

// Detector settings: one zod schema, parsed once, frozen. Units are in the names.

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
