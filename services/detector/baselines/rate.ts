import { median, medianAbsoluteDeviation } from 'simple-statistics';
import type { BaselineConfig } from '../config.js';

// Action-rate baseline per identity: counts in fixed buckets, judged against the median and the
// median absolute deviation of the identity's own recent buckets. Median/MAD ignore the very
// outliers we are looking for, unlike mean/stddev. The threshold is computed when a bucket closes,
// not per event.

/** MAD × 1.4826 estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;

export interface RateState {
  bucket: number;
  count: number;
  /** Completed bucket counts, oldest first (bounded by history_buckets). */
  history: number[];
  median?: number;
  threshold?: number;
  /** Bucket in which the rate alert last fired (once per bucket). */
  fired?: number;
}

export function newRateState(bucket: number): RateState {
  return { bucket, count: 0, history: [] };
}

function close(state: RateState, toBucket: number, cfg: BaselineConfig): void {
  state.history.push(state.count);
  // Idle buckets between are real zeros: an identity that acts once an hour has a low baseline.
  const idle = Math.min(toBucket - state.bucket - 1, cfg.history_buckets);
  for (let i = 0; i < idle; i++) state.history.push(0);
  if (state.history.length > cfg.history_buckets)
    state.history.splice(0, state.history.length - cfg.history_buckets);
  state.bucket = toBucket;
  state.count = 0;
  if (state.history.length >= cfg.warmup_buckets) {
    const m = median(state.history);
    const mad = medianAbsoluteDeviation(state.history);
    state.median = m;
    state.threshold = m + Math.max(cfg.rate_mad_k * MAD_TO_SIGMA * mad, cfg.rate_min_excess);
  }
}

/** Count one action; returns the count when this action pushes the bucket over the threshold. */
export function observeRate(state: RateState, atMs: number, cfg: BaselineConfig): number | undefined {
  const bucket = Math.floor(atMs / cfg.bucket_ms);
  // A late event (earlier bucket) counts in the current one: tolerant of reordering across tasks.
  if (bucket > state.bucket) close(state, bucket, cfg);
  state.count++;
  if (state.threshold !== undefined && state.count > state.threshold && state.fired !== state.bucket) {
    state.fired = state.bucket;
    return state.count;
  }
  return undefined;
}
