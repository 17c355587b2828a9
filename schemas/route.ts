import { z } from 'zod';
import { Severity } from './alert.js';
import { Glob, Tenant } from './common.js';

// The alerter's routes file: named destinations, and routes that send alerts to them.
// Secrets and token-bearing URLs are never written here: they are *names of environment
// variables* (`*_env`), resolved once at start, so the file can be committed and logged.

/**
 * Default grouping wait. The detector raises sibling alerts (same dedup key) from one event batch
 * within milliseconds, so 50 ms folds them into one page; later ones go in the follow-up page.
 */
export const DEFAULT_GROUP_WAIT_MS = 50;

const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as ALERTER_WEBHOOK_SECRET');
const DestinationName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be a lower-case name (a-z, 0-9, _ . -), at most 64 chars');

/** Delivery tuning shared by every destination type; defaults sit here, in one place. */
const Delivery = {
  /** Per-request deadline; a hanging receiver costs at most this per attempt. */
  timeout_ms: z.number().int().min(50).max(60_000).default(5_000),
  /** Attempts in total (first try included) before a page is logged as permanently failed. */
  max_attempts: z.number().int().min(1).max(20).default(5),
  /** Exponential backoff with full jitter: wait uniform(0, min(max, base * 2^(attempt-1))). */
  backoff_base_ms: z.number().int().min(1).max(60_000).default(250),
  backoff_max_ms: z.number().int().min(1).max(600_000).default(30_000),
  /** Token bucket: sustained pages per second and burst size. */
  rate_per_s: z.number().positive().max(10_000).default(10),
  burst: z.number().int().min(1).max(10_000).default(20),
  /** Requests in flight at once to this destination. */
  concurrency: z.number().int().min(1).max(256).default(4),
  /**
   * Grouping: the first alert of a dedup key waits this long for siblings, then one page
   * goes with their count. Short on purpose, as it adds directly to page latency.
   */
  group_wait_ms: z.number().int().min(0).max(600_000).default(DEFAULT_GROUP_WAIT_MS),
  /**
   * After a page, alerts with the same dedup key are held for this long and then sent as one
   * follow-up page carrying their count (none if nothing new arrived).
   */
  group_interval_ms: z.number().int().min(0).max(86_400_000).default(60_000),
};

/** Literal URL or the name of an environment variable holding it (for token-bearing URLs). */
const urlOrEnv = {
  url: z.string().url().max(2048).optional(),
  url_env: EnvName.optional(),
};

export const WebhookDestination = z.strictObject({
  type: z.literal('webhook'),
  ...urlOrEnv,
  /** Environment variable holding the HMAC-SHA256 signing secret. */
  secret_env: EnvName,
  ...Delivery,
});

export const SlackDestination = z.strictObject({
  type: z.literal('slack'),
  /** Incoming-webhook URLs carry their token in the path: prefer `url_env`. */
  ...urlOrEnv,
  ...Delivery,
});

export const PagerDutyDestination = z.strictObject({
  type: z.literal('pagerduty'),
  /** Events API v2 endpoint; configurable so tests and proxies can point it elsewhere. */
  url: z.string().url().max(2048).default('https://events.pagerduty.com/v2/enqueue'),
  url_env: EnvName.optional(),
  /** Environment variable holding the integration's routing key. */
  routing_key_env: EnvName,
  ...Delivery,
});

export const Destination = z
  .discriminatedUnion('type', [WebhookDestination, SlackDestination, PagerDutyDestination])
  .superRefine((d, ctx) => {
    if (d.type !== 'pagerduty' && (d.url === undefined) === (d.url_env === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of url and url_env' });
    }
    if (d.backoff_max_ms < d.backoff_base_ms) {
      ctx.addIssue({ code: 'custom', path: ['backoff_max_ms'], message: 'must be >= backoff_base_ms' });
    }
  });
export type Destination = z.infer<typeof Destination>;
export type DestinationType = Destination['type'];

/** What a route matches. Every given field must match; omitted fields match anything. */
export const RouteMatch = z.strictObject({
  min_severity: Severity.optional(),
  /** Globs over rule ids: `*` within a dot-separated segment, `**` across. */
  rules: z.array(Glob).min(1).max(64).optional(),
  tenants: z.array(Tenant).min(1).max(256).optional(),
  /** Globs over agent ids. */
  agents: z.array(Glob).min(1).max(256).optional(),
  /** Every label given must be present with exactly this value. */
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type RouteMatch = z.infer<typeof RouteMatch>;

export const Route = z.strictObject({
  name: z.string().min(1).max(64),
  match: RouteMatch.default({}),
  destinations: z.array(DestinationName).min(1).max(16),
  /** Stop evaluating later routes once this one matched. */
  final: z.boolean().default(false),
});
export type Route = z.infer<typeof Route>;

export const RoutesFile = z
  .strictObject({
    version: z.literal(1),
    destinations: z.record(DestinationName, Destination),
    routes: z.array(Route).max(256),
  })
  .superRefine((file, ctx) => {
    file.routes.forEach((route, i) => {
      route.destinations.forEach((name, j) => {
        if (!(name in file.destinations)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'destinations', j],
            message: `unknown destination "${name}"`,
          });
        }
      });
    });
  });
export type RoutesFile = z.infer<typeof RoutesFile>;
export type RoutesFileInput = z.input<typeof RoutesFile>;
