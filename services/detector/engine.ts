import type { AgentEvent, Alert, EventOf, RiskSignal } from '../../schemas/index.js';
import { parseIsoMs } from '../platform/iso-time.js';
import type { HashCheck } from '../platform/kafka/headers.js';
import { type BaselineFinding, Baselines } from './baselines/baselines.js';
import {
  ACCUMULATED_RISK_RULE,
  combineSignals,
  isSignalRule,
  pageScore,
  recordSignals,
  settleRisk,
  type TaskSignal,
  toRiskSignal,
} from './baselines/risk.js';
import { type DetectorConfig, type DetectorConfigInput, parseDetectorConfig } from './config.js';
import { buildAlert, explainEvent } from './rules/alert.js';
import { checkApproval } from './rules/builtin/approval.js';
import type { CheckContext, Emit } from './rules/builtin/context.js';
import { checkCredential } from './rules/builtin/credential.js';
import { checkChildDeclared, checkDelegated, checkScopeChanged } from './rules/builtin/delegation.js';
import { checkChain, checkClock } from './rules/builtin/integrity.js';
import { checkProvenance } from './rules/builtin/provenance.js';
import { checkLifecycle, checkScope } from './rules/builtin/scope.js';
import { BUILTIN_RULES, type BuiltinRuleId, type RuleMeta } from './rules/catalogue.js';
import { emptyRuleSet } from './rules/sequence/load.js';
import {
  ALL_STEPS,
  advanceRule,
  Dispatcher,
  SequenceState,
  type StepMasks,
} from './rules/sequence/matcher.js';
import type { EvalEnv } from './rules/sequence/predicate.js';
import type { CompiledSequenceRule, RuleSet } from './rules/sequence/types.js';
import { compileScope } from './scope/compile.js';
import { restoreSnapshot } from './snapshot/restore.js';
import type { DetectorSnapshot } from './snapshot/types.js';
import { type SnapshotSources, SnapshotWriter } from './snapshot/writer.js';
import { type ApplyContext, applyEvent, getOrCreateTask } from './state/apply.js';
import { admit, bufferOverflowing, declareGap, takeReady } from './state/order.js';
import { type DetectorState, emptyDetectorState, type TaskState } from './state/types.js';
import { type DetectorStats, newStats } from './stats.js';

// The detector: validated events in, alerts out. Synchronous, no I/O, deterministic given the
// events and the clock (used only for `created_at`). The I/O shell (Kafka consumer, producer,
// snapshot store, rules watcher) wraps it: feed each event to `process`, publish what it returns,
// call `tick` on a timer, persist `snapshot()` with the consumed offsets, `setRules` on reload.
//
// Order and duplicates (see state/order.ts): events of a task are folded in seq order through a
// bounded reorder buffer; exact redeliveries (same event_id) are dropped silently; a different
// event for an already-seen seq raises AT-INT-003; a gap that does not fill raises AT-INT-001.
// Alert ids are a function of (tenant, rule, task, evidence): a replay yields the same ids.

export interface DetectorOptions {
  rules?: RuleSet;
  config?: DetectorConfigInput;
  /** Wall clock for `created_at` only; inject a fixed one for reproducible output. */
  clock?: () => number;
  snapshot?: DetectorSnapshot;
  /**
   * Told of each risk signal as it is recorded on its task (the service stores them for the
   * timeline, io/signal-rows.ts). A replay of the same events tells the same signals again.
   */
  onSignal?: (signal: TaskSignal) => void;
}

export interface Detector {
  /**
   * Fold one event in; the alerts it raises. `hashCheck` is the gateway's verdict on the event's
   * own hash (platform/kafka/headers.ts): with it, `verify_hash: full` trusts the verdict
   * instead of recomputing the hash (unless `trust_hash_check` is off).
   */
  process(event: AgentEvent, hashCheck?: HashCheck): Alert[];
  /** Declare gaps that have waited longer than reorder_timeout_ms and drop expired partial matches. */
  tick(nowMs: number): Alert[];
  /** Declare every open gap now (end of a backtest or a drained replay). */
  flush(): Alert[];
  setRules(rules: RuleSet): void;
  readonly rules: RuleSet;
  readonly config: Readonly<DetectorConfig>;
  readonly state: DetectorState;
  snapshot(): DetectorSnapshot;
  /**
   * The snapshot as JSON text: what a service persists. Incremental (snapshot/writer.ts): only
   * what changed since the previous call is serialised again; the text is the same JSON value.
   */
  snapshotJson(): string;
  stats(): DetectorStats;
}

/** A risk signal's explanation is short text in the alert contract (schemas/alert.ts). */
const MAX_SIGNAL_TEXT = 512;

/** Shared empty result: most events raise nothing, and returning this allocates nothing. */
const NO_ALERTS: Alert[] = [];

class DetectorImpl implements Detector {
  readonly config: Readonly<DetectorConfig>;
  readonly state: DetectorState;
  rules: RuleSet;
  private dispatcher: Dispatcher;
  private sequences: SequenceState;
  private baselines: Baselines;
  private readonly clock: () => number;
  private readonly onSignal: DetectorOptions['onSignal'];
  private counters: DetectorStats;
  /** Tasks with a non-empty reorder buffer, for tick(). */
  private readonly waiting = new Set<TaskState>();
  /** The gateway's hash verdicts of buffered events (a restored buffer has none: recomputed). */
  private readonly bufferedChecks = new WeakMap<AgentEvent, HashCheck>();
  /**
   * Cached snapshot texts per unit, and the observers of in-place changes (state/changes.ts)
   * handed to the state, the sequences and the baselines. Every path that changes a task in
   * place touches it: process() (admission and evaluation of the event's task), skipGap()
   * (tick/flush), applyEvent (a delegated child, a revoked credential). Sequence keys and baseline
   * identities are touched by their own classes. Deleted units need nothing: a snapshot walks
   * live state.
   */
  readonly writer = new SnapshotWriter(() => this.snapshotSources());
  // Per-event scratch, reused to avoid allocating closures on the hot path.
  private out: Alert[] = NO_ALERTS;
  private current!: AgentEvent;
  private readonly env: EvalEnv = { task: undefined, scope: undefined, captures: undefined };
  private readonly ctx: CheckContext;
  /** The reducer's context, refilled per event like `ctx` (applyEvent keeps no reference to it). */
  private readonly apply: ApplyContext;
  private readonly emit: Emit = (ruleId, vars, evidence) => {
    this.raise(
      BUILTIN_RULES[ruleId as BuiltinRuleId],
      this.current,
      vars,
      evidence ?? [this.current.event_id],
    );
  };

  constructor(opts: DetectorOptions) {
    this.onSignal = opts.onSignal;
    this.config = parseDetectorConfig(opts.config);
    this.clock = opts.clock ?? Date.now;
    this.rules = opts.rules ?? emptyRuleSet();
    this.dispatcher = new Dispatcher(this.rules);
    const restored =
      opts.snapshot !== undefined
        ? restoreSnapshot(opts.snapshot, {
            rules: this.rules,
            baselines: this.config.baselines,
            writer: this.writer,
          })
        : undefined;
    this.state = restored?.state ?? emptyDetectorState();
    this.sequences = restored?.sequences ?? new SequenceState(this.writer.sequenceKeys);
    this.baselines = restored?.baselines ?? new Baselines(this.config.baselines, this.writer.identities);
    this.counters = restored?.stats ?? newStats();
    for (const t of restored?.waiting ?? []) this.waiting.add(t);
    // One mutable check context, refilled per event (checks never keep a reference to it).
    this.ctx = {
      cfg: this.config,
      state: this.state,
      task: undefined as never,
      event: undefined as never,
      atMs: 0,
      emit: this.emit,
    };
    this.apply = { cfg: this.config, atMs: 0, coveredBy: undefined, changes: this.writer, task: undefined };
  }

  private raise(
    meta: RuleMeta,
    event: AgentEvent,
    vars: Record<string, string | number | undefined>,
    evidence: readonly string[],
    risk?: { signals: RiskSignal[]; score: number },
  ) {
    if (this.out === NO_ALERTS) this.out = [];
    // Any other finding on the task carries the task's recent risk signals as context.
    if (risk === undefined && !isSignalRule(meta.id)) risk = this.combine(event);
    this.out.push(
      buildAlert({
        meta,
        event,
        evidence,
        vars,
        createdAtMs: this.clock(),
        linkBaseUrl: this.config.link_base_url,
        ...(risk !== undefined ? { riskSignals: risk.signals, riskScore: risk.score } : {}),
      }),
    );
  }

  /** Note an alert on the event's task; the task's signals within the combine window. */
  private combine(event: AgentEvent): { signals: RiskSignal[]; score: number } | undefined {
    const task = this.state.tasks.get(event.tenant)?.get(event.task_id);
    if (task === undefined) return undefined;
    const atMs = parseIsoMs(event.occurred_at);
    if (task.lastAlertMs === undefined || atMs > task.lastAlertMs) {
      task.lastAlertMs = atMs;
      this.writer.tasks.touch(task);
    }
    const signals = combineSignals(task.risk, atMs, this.config.baselines.risk);
    return signals.length === 0 ? undefined : { signals: signals.map(toRiskSignal), score: task.risk!.score };
  }

  process(event: AgentEvent, hashCheck?: HashCheck): Alert[] {
    this.out = NO_ALERTS;
    this.counters.events++;
    const atMs = parseIsoMs(event.occurred_at);
    const task = getOrCreateTask(this.state, event, this.config.recent_seqs);
    this.writer.tasks.touch(task);
    this.current = event;
    switch (admit(task, event, atMs)) {
      case 'duplicate':
        this.counters.duplicates++;
        break;
      case 'stale':
        this.counters.stale++;
        break;
      case 'conflict':
        this.counters.conflicts++;
        this.emit('AT-INT-003', { seq: event.seq }, [event.event_id]);
        break;
      case 'late':
        this.counters.late++;
        this.evaluate(task, event, atMs, false, hashCheck);
        break;
      case 'buffered':
        this.counters.buffered++;
        if (hashCheck !== undefined) this.bufferedChecks.set(event, hashCheck);
        this.waiting.add(task);
        if (bufferOverflowing(task, this.config.reorder_window_events)) this.skipGap(task);
        break;
      case 'process':
        this.evaluate(task, event, atMs, true, hashCheck);
        this.drain(task);
        break;
    }
    this.counters.alerts += this.out.length;
    return this.out;
  }

  private drain(task: TaskState): void {
    for (let next = takeReady(task); next !== undefined; next = takeReady(task)) {
      this.evaluate(task, next, parseIsoMs(next.occurred_at), true, this.bufferedChecks.get(next));
    }
    // Most tasks never wait: skip the Set lookup while none does.
    if (task.pending === undefined && this.waiting.size > 0) this.waiting.delete(task);
  }

  private skipGap(task: TaskState): void {
    const gap = declareGap(task);
    if (gap === undefined) return;
    this.writer.tasks.touch(task);
    this.counters.gaps++;
    this.current = gap.after;
    this.emit('AT-INT-001', { from: gap.from, to: gap.to, after: gap.after.event_id }, [gap.after.event_id]);
    this.drain(task);
  }

  private evaluate(
    task: TaskState,
    event: AgentEvent,
    atMs: number,
    inChain: boolean,
    hashCheck: HashCheck | undefined,
  ): void {
    this.current = event;
    const cfg = this.config;
    if (inChain) checkChain(task, event, cfg, this.emit, cfg.trust_hash_check ? hashCheck : undefined);
    checkClock(task, event, atMs, cfg, this.emit);
    // Baselines first: a signal of this very action rides on the alerts its checks raise.
    const findings = event.type === 'action' ? this.baselines.observe(event, atMs) : undefined;
    if (findings !== undefined) this.recordSignals(task, event as EventOf<'action'>, atMs, findings);
    let coveredBy: string | undefined;
    const ctx = this.ctx;
    ctx.task = task;
    ctx.event = event;
    ctx.atMs = atMs;
    ctx.scopeEvaluation = undefined;
    switch (event.type) {
      case 'action': {
        const actx = ctx as CheckContext<EventOf<'action'>>;
        checkLifecycle(actx);
        if (task.declared) {
          checkScope(actx);
          coveredBy = checkApproval(actx);
          checkProvenance(actx);
        }
        checkCredential(actx);
        break;
      }
      case 'task.delegated':
        checkDelegated(ctx as CheckContext<EventOf<'task.delegated'>>);
        break;
      case 'task.declared':
        checkChildDeclared(ctx as CheckContext<EventOf<'task.declared'>>);
        break;
      case 'task.scope_changed':
        checkScopeChanged(ctx as CheckContext<EventOf<'task.scope_changed'>>);
        break;
    }
    const apply = this.apply;
    apply.atMs = atMs;
    apply.coveredBy = coveredBy;
    apply.task = task;
    applyEvent(this.state, event, apply);
    this.runSequences(task, event, atMs);
    if (findings !== undefined) this.settleRisk(task, event as EventOf<'action'>, atMs);
  }

  private runSequences(task: TaskState, event: AgentEvent, atMs: number): void {
    // Only the rules (and steps) this kind of event can affect: see Dispatcher. Dispatch measured
    // on the bench: sequence matching ~21% → ~7% of the profile (read actions visit 3 of 6 rules,
    // events without secrets skip the two secret rules).
    const plans = this.dispatcher.plans(event);
    if (plans === undefined) {
      const rules = this.rules.byType.get(event.type);
      if (rules === undefined || rules.length === 0) return;
      this.enterSequences(task);
      for (const rule of rules) this.advance(rule, event, atMs, ALL_STEPS);
    } else {
      if (plans.length === 0) return;
      this.enterSequences(task);
      for (const plan of plans) this.advance(plan.rule, event, atMs, plan);
    }
    this.env.task = undefined;
    this.env.scope = undefined;
  }

  private enterSequences(task: TaskState): void {
    this.env.task = task;
    this.env.scope = task.scope !== undefined ? compileScope(task.scope) : undefined;
  }

  private advance(rule: CompiledSequenceRule, event: AgentEvent, atMs: number, masks: StepMasks): void {
    const matches = advanceRule(
      rule,
      this.sequences,
      event,
      atMs,
      this.env,
      this.config.max_partials_per_key,
      masks,
    );
    if (matches === undefined) return;
    for (const m of matches) {
      const vars: Record<string, string | number | undefined> = {};
      for (const [k, v] of Object.entries(m.captures)) vars[k] = Array.isArray(v) ? v.join(', ') : String(v);
      this.raise(m.rule.meta, event, vars, m.events);
    }
  }

  /** Baseline findings are risk signals on the task, not alerts (baselines/risk.ts). */
  private recordSignals(
    task: TaskState,
    event: EventOf<'action'>,
    atMs: number,
    findings: readonly BaselineFinding[],
  ): void {
    const onSignal = this.onSignal;
    task.risk = recordSignals(
      task.risk,
      findings,
      event,
      atMs,
      this.config.baselines.risk,
      (f) => explainEvent(BUILTIN_RULES[f.rule], event, f.vars).slice(0, MAX_SIGNAL_TEXT),
      onSignal &&
        ((s) =>
          onSignal({
            tenant: event.tenant,
            task_id: event.task_id,
            agent_id: event.agent.id,
            ...toRiskSignal(s),
          })),
    );
  }

  /** After the action's own alerts: page the task's signals alone when their score says so. */
  private settleRisk(task: TaskState, event: EventOf<'action'>, atMs: number): void {
    const risk = task.risk!;
    const cfg = this.config.baselines.risk;
    if (!settleRisk(risk, task.lastAlertMs, event.tenant, atMs, cfg)) return;
    const evidence = [...new Set(risk.signals.map((s) => s.event))];
    if (evidence.at(-1) !== event.event_id) evidence.push(event.event_id);
    this.raise(
      BUILTIN_RULES[ACCUMULATED_RISK_RULE],
      event,
      {
        score: risk.score,
        page_score: pageScore(cfg, event.tenant),
        rules: [...new Set(risk.signals.map((s) => s.rule))].join(', '),
        window_s: cfg.combine_window_ms / 1000,
      },
      evidence,
      { signals: risk.signals.map(toRiskSignal), score: risk.score },
    );
  }

  tick(nowMs: number): Alert[] {
    this.out = NO_ALERTS;
    for (const task of [...this.waiting]) {
      if (task.pendingSinceMs !== undefined && nowMs - task.pendingSinceMs > this.config.reorder_timeout_ms) {
        while (task.pending !== undefined) this.skipGap(task);
      }
    }
    this.sequences.sweep(this.rules.rules, nowMs);
    this.evictEnded(nowMs);
    this.counters.alerts += this.out.length;
    return this.out;
  }

  /** Drop ended tasks idle past the retention (children first-class: a parent with live children stays). */
  private evictEnded(nowMs: number): void {
    const cutoff = nowMs - this.config.ended_task_retention_ms;
    for (const byId of this.state.tasks.values()) {
      for (const [id, t] of byId) {
        if (!t.ended || t.lastAtMs >= cutoff || t.pending !== undefined) continue;
        if (t.children?.some((c) => byId.get(c)?.ended === false)) continue;
        byId.delete(id);
      }
    }
  }

  flush(): Alert[] {
    this.out = NO_ALERTS;
    for (const task of [...this.waiting]) while (task.pending !== undefined) this.skipGap(task);
    this.counters.alerts += this.out.length;
    return this.out;
  }

  setRules(rules: RuleSet): void {
    const before = new Map(this.rules.rules.map((r) => [r.meta.id, r.fingerprint]));
    const after = new Map(rules.rules.map((r) => [r.meta.id, r.fingerprint]));
    this.sequences.retain(after, before);
    this.rules = rules;
    this.dispatcher = new Dispatcher(rules);
  }

  stats(): DetectorStats {
    return { ...this.counters, partialOverflow: this.sequences.stats.overflow };
  }

  snapshot(): DetectorSnapshot {
    // Parsed from the text: the snapshot shares nothing with live state.
    return JSON.parse(this.snapshotJson()) as DetectorSnapshot;
  }

  snapshotJson(): string {
    return this.writer.write();
  }

  private snapshotSources(): SnapshotSources {
    return {
      state: this.state,
      sequences: this.sequences,
      baselines: this.baselines,
      rules: this.rules,
      stats: this.stats(),
    };
  }
}

export function createDetector(opts: DetectorOptions = {}): Detector {
  return new DetectorImpl(opts);
}

/** The detector's snapshot writer, for diagnostics (snapshot/inspect.ts); not part of the API. */
export function snapshotWriterOf(detector: Detector): SnapshotWriter {
  return (detector as DetectorImpl).writer;
}
