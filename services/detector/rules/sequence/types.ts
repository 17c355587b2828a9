import type { RuleItem } from '../../../../schemas/index.js';
import type { ErrorCode, WarningCode } from '../../../platform/errors.js';
import type { RuleMeta } from '../catalogue.js';
import type { Accessor } from './fields.js';
import type { MayFn, Predicate } from './predicate.js';

export interface Capture {
  /** `<step>.<field>`, as written in refs and explanation templates. */
  key: string;
  get: Accessor;
}

export interface CompiledStep {
  name: string;
  when: Predicate;
  /** True when `when` reads only the event: its result is the same for every partial match. */
  eventOnly: boolean;
  /** The ref-free conjuncts of `when` (a cheap pre-filter), when `when` uses refs. */
  pre?: Predicate;
  /** An `absent` step right before this one: an event matching it kills the waiting partial. */
  guard?: Predicate;
  /** Can an event with this discriminant match `when` / `guard` at all (dispatch, see predicate.ts)? */
  mayWhen?: MayFn;
  mayGuard?: MayFn;
  /** Values to keep when this step binds (only what later steps or the explanation use). */
  captures: Capture[];
}

export interface CompiledSequenceRule {
  meta: RuleMeta;
  item: RuleItem;
  byField: string;
  by: Accessor;
  withinMs: number;
  steps: CompiledStep[];
  /** A leading `absent` step: the first step only starts a match if this did not occur within `within` before. */
  leadingAbsent?: Predicate;
  until?: Predicate;
  mayLeadingAbsent?: MayFn;
  mayUntil?: MayFn;
  /** Structured exceptions, tested on the triggering event. */
  exceptions: Predicate[];
  /** Event types that can affect the rule; null = all. */
  types: ReadonlySet<string> | null;
  /** Changes whenever the rule's behaviour could change: partial matches survive a reload only if equal. */
  fingerprint: string;
}

/** A compiled, immutable set of sequence rules. Swapping the detector's RuleSet reference is atomic. */
export interface RuleSet {
  name: string;
  version: string;
  rules: readonly CompiledSequenceRule[];
  /** Event type → rules that can use it (wildcard rules included). */
  byType: ReadonlyMap<string, readonly CompiledSequenceRule[]>;
}

export interface RuleLoadIssue {
  /** A catalogue code (services/platform/errors.ts): AT_ERR_RULES_* or AT_WARN_RULES_*. */
  code: ErrorCode | WarningCode;
  message: string;
  file: string;
  line?: number;
  /** `rule AT-SEQ-001`, `macro destructive_action`, `list x` or `item #3`. */
  item?: string;
}

export interface RuleLoadResult {
  ok: boolean;
  ruleSet?: RuleSet;
  errors: RuleLoadIssue[];
  warnings: RuleLoadIssue[];
}
