import type { AgentEvent } from '../../../../schemas/index.js';
import { append } from '../../append.js';
import type { EvalEnv } from './predicate.js';
import type { CompiledSequenceRule } from './types.js';

// Sequence matching with skip-till-any-match semantics: a pending partial match that advances is
// copied forward and also stays where it was, so every overlapping match is reported (read A1,
// read A2, send B → two matches), not only the first pending one per key as EQL does. The price is
// bounded: at most `max_partials_per_key` pending partials per (rule, key); on overflow the oldest
// is dropped and counted (`overflow`), since it has the least time left in its window.

export interface Partial {
  /** Index of the next positive step to match. */
  next: number;
  startMs: number;
  events: string[];
  captures?: Record<string, unknown>;
}

interface KeyState {
  partials: Partial[];
  /** Last time a leading `absent` condition matched for this key. */
  absentMs?: number;
}

export interface SequenceMatch {
  rule: CompiledSequenceRule;
  events: string[];
  captures: Record<string, unknown>;
}

export interface SequenceStats {
  overflow: number;
  expired: number;
}

/** Per-rule, per-key pending partials. Plain data inside Maps: `toJSON`/`fromJSON` snapshot it. */
export class SequenceState {
  readonly byRule = new Map<string, Map<string, KeyState>>();
  readonly stats: SequenceStats = { overflow: 0, expired: 0 };

  toJSON(): { rules: Record<string, Record<string, KeyState>>; stats: SequenceStats } {
    const rules: Record<string, Record<string, KeyState>> = {};
    for (const [id, keys] of this.byRule) rules[id] = Object.fromEntries(keys);
    return { rules, stats: { ...this.stats } };
  }

  static fromJSON(json: ReturnType<SequenceState['toJSON']>): SequenceState {
    const s = new SequenceState();
    for (const [id, keys] of Object.entries(json.rules)) s.byRule.set(id, new Map(Object.entries(keys)));
    Object.assign(s.stats, json.stats);
    return s;
  }

  /** Keep partials only for rules that still exist with the same fingerprint (after a reload). */
  retain(fingerprints: ReadonlyMap<string, string>, previous: ReadonlyMap<string, string>): void {
    for (const id of [...this.byRule.keys()]) {
      if (fingerprints.get(id) === undefined || fingerprints.get(id) !== previous.get(id))
        this.byRule.delete(id);
    }
  }

  /** Drop partials whose window has passed (call from a timer; matching also drops them lazily). */
  sweep(rules: readonly CompiledSequenceRule[], nowMs: number): void {
    for (const rule of rules) {
      const keys = this.byRule.get(rule.meta.id);
      if (keys === undefined) continue;
      for (const [key, ks] of keys) {
        const before = ks.partials.length;
        ks.partials = ks.partials.filter((p) => nowMs - p.startMs <= rule.withinMs);
        this.stats.expired += before - ks.partials.length;
        if (ks.partials.length === 0 && (ks.absentMs === undefined || nowMs - ks.absentMs > rule.withinMs))
          keys.delete(key);
      }
    }
  }
}

function capture(
  rule: CompiledSequenceRule,
  stepIndex: number,
  event: AgentEvent,
  base: Record<string, unknown> | undefined,
) {
  const caps = rule.steps[stepIndex]!.captures;
  if (caps.length === 0) return base;
  const out: Record<string, unknown> = base === undefined ? {} : { ...base };
  for (const c of caps) {
    const v = c.get(event);
    if (v !== undefined) out[c.key] = v;
  }
  return out;
}

/**
 * Feed one event to one rule. `env` carries the task and its compiled scope; its `captures` member
 * is overwritten per partial. Returns completed matches (possibly several).
 */
export function advanceRule(
  rule: CompiledSequenceRule,
  state: SequenceState,
  event: AgentEvent,
  atMs: number,
  env: EvalEnv,
  maxPartials: number,
): SequenceMatch[] | undefined {
  let keys = state.byRule.get(rule.meta.id);
  env.captures = undefined;
  const first = rule.steps[0]!;
  const startsHere = first.when(event, env);
  // Fast exit: nothing pending for this rule anywhere and the event neither starts a match nor
  // feeds a leading absent step. Saves computing the key for most events.
  if (keys === undefined && !startsHere && rule.leadingAbsent === undefined) return undefined;

  const keyValue = rule.by(event);
  if (keyValue === undefined || keyValue === null) return undefined;
  const key = `${event.tenant}\u0000${String(keyValue)}`;
  let ks = keys?.get(key);
  if (ks === undefined && !startsHere && rule.leadingAbsent === undefined) return undefined;

  let matches: SequenceMatch[] | undefined;
  if (ks !== undefined && rule.until?.(event, env)) {
    ks.partials.length = 0;
  }

  let grown: Partial[] | undefined;
  if (ks !== undefined && ks.partials.length > 0) {
    const kept: Partial[] = [];
    for (const p of ks.partials) {
      if (atMs - p.startMs > rule.withinMs) {
        state.stats.expired++;
        continue;
      }
      const step = rule.steps[p.next]!;
      env.captures = p.captures;
      if (step.guard?.(event, env)) continue; // the absent thing happened
      kept.push(p);
      if (!step.when(event, env)) continue;
      const events = [...p.events, event.event_id];
      const captures = capture(rule, p.next, event, p.captures);
      if (p.next + 1 === rule.steps.length) {
        env.captures = captures;
        if (!rule.exceptions.some((x) => x(event, env))) {
          matches = append(matches, { rule, events, captures: captures ?? {} });
        }
      } else {
        const np: Partial = { next: p.next + 1, startMs: p.startMs, events };
        if (captures !== undefined) np.captures = captures;
        grown = append(grown, np);
      }
    }
    ks.partials = kept;
  }
  env.captures = undefined;

  if (startsHere) {
    const blocked =
      rule.leadingAbsent !== undefined && ks?.absentMs !== undefined && atMs - ks.absentMs <= rule.withinMs;
    if (!blocked) {
      const captures = capture(rule, 0, event, undefined);
      if (rule.steps.length === 1) {
        env.captures = captures;
        if (!rule.exceptions.some((x) => x(event, env))) {
          matches = append(matches, { rule, events: [event.event_id], captures: captures ?? {} });
        }
      } else {
        const np: Partial = { next: 1, startMs: atMs, events: [event.event_id] };
        if (captures !== undefined) np.captures = captures;
        grown = append(grown, np);
      }
    }
  }
  if (rule.leadingAbsent?.(event, env)) {
    if (ks === undefined) ks = { partials: [] };
    if (ks.absentMs === undefined || atMs > ks.absentMs) ks.absentMs = atMs;
  }

  if (grown !== undefined) {
    if (ks === undefined) ks = { partials: [] };
    for (const g of grown) ks.partials.push(g);
    const excess = ks.partials.length - maxPartials;
    if (excess > 0) {
      ks.partials.splice(0, excess);
      state.stats.overflow += excess;
    }
  }
  if (ks !== undefined) {
    if (ks.partials.length === 0 && ks.absentMs === undefined) {
      keys?.delete(key);
    } else {
      if (keys === undefined) {
        keys = new Map();
        state.byRule.set(rule.meta.id, keys);
      }
      keys.set(key, ks);
    }
  }
  if (keys !== undefined && keys.size === 0) state.byRule.delete(rule.meta.id);
  return matches;
}
