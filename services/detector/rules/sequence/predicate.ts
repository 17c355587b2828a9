import type { AgentEvent, Condition, Operand, Provenance, Scalar } from '../../../../schemas/index.js';
import type { ErrorCode, WarningCode } from '../../../platform/errors.js';
import { compileGlob, destinationHost, globForValue } from '../../../platform/glob.js';
import { requiredApprovalEntry, resourcesOf } from '../../scope/approval.js';
import { type CompiledScope, entryMatches } from '../../scope/compile.js';
import type { TaskState } from '../../state/types.js';
import { compileField } from './fields.js';

// Conditions compiled to closures once, at load. At run time a predicate reads the event, the
// task's current scope (compiled) and the values captured by earlier steps of the partial match.
// Comparisons over arrays are existential: `secrets[].fp equals {ref}` holds if any fp matches.

export interface EvalEnv {
  task: TaskState | undefined;
  scope: CompiledScope | undefined;
  /** Values captured by earlier steps, keyed `<step>.<field>`. */
  captures: Record<string, unknown> | undefined;
}

export type Predicate = (event: AgentEvent, env: EvalEnv) => boolean;

export interface CompileProblem {
  code: ErrorCode | WarningCode;
  message: string;
}

export interface PredicateCompileEnv {
  lists: ReadonlyMap<string, readonly Scalar[]>;
  macros: ReadonlyMap<string, Condition>;
  /** Steps that precede the one being compiled (refs may only point at these). */
  earlierSteps: readonly string[];
  /** Collects `<step>.<field>` refs so the matcher captures exactly those values. */
  refs: Set<string>;
  usedMacros: Set<string>;
  usedLists: Set<string>;
  problems: CompileProblem[];
  macroStack?: string[];
}

const TRUE: Predicate = () => true;
const FALSE: Predicate = () => false;

function asArray(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [v];
}

/** Operand → function returning its values (array), or a constant array. */
function compileOperand(
  op: Operand,
  env: PredicateCompileEnv,
): { constant: readonly unknown[] } | { dynamic: (e: EvalEnv) => readonly unknown[] | undefined } {
  if (op !== null && typeof op === 'object' && !Array.isArray(op)) {
    if ('list' in op) {
      const list = env.lists.get(op.list);
      env.usedLists.add(op.list);
      if (list === undefined) {
        env.problems.push({ code: 'AT_ERR_RULES_UNKNOWN_LIST', message: `unknown list '${op.list}'` });
        return { constant: [] };
      }
      return { constant: list };
    }
    const ref = op.ref;
    const dot = ref.indexOf('.');
    const stepName = dot > 0 ? ref.slice(0, dot) : '';
    if (dot <= 0 || !env.earlierSteps.includes(stepName)) {
      env.problems.push({
        code: 'AT_ERR_RULES_BAD_REF',
        message: `ref '${ref}' must name an earlier step (${env.earlierSteps.join(', ') || 'none'}) and a field`,
      });
      return { constant: [] };
    }
    env.refs.add(ref);
    return {
      dynamic: (e) => {
        const v = e.captures?.[ref];
        return v === undefined ? undefined : asArray(v);
      },
    };
  }
  return { constant: asArray(op) };
}

type Test = (value: unknown, operand: readonly unknown[]) => boolean;

const TESTS: Record<string, Test> = {
  equals: (v, ops) => ops.includes(v),
  in: (v, ops) => ops.includes(v),
  glob: (v, ops) => typeof v === 'string' && ops.some((g) => typeof g === 'string' && compileGlob(g)(v)),
  // The reverse of glob: the event's field holds the pattern (what an approval covers), and the
  // operand holds values, e.g. `data.target.resource matched_by {ref: bulk.data.resource}`.
  matched_by: (v, ops) => {
    if (typeof v !== 'string') return false;
    const matches = compileGlob(v);
    return ops.some((x) => typeof x === 'string' && matches(x));
  },
  contains: (v, ops) => typeof v === 'string' && ops.some((s) => typeof s === 'string' && v.includes(s)),
  starts_with: (v, ops) => typeof v === 'string' && ops.some((s) => typeof s === 'string' && v.startsWith(s)),
  gt: (v, ops) => typeof v === 'number' && typeof ops[0] === 'number' && v > ops[0],
  gte: (v, ops) => typeof v === 'number' && typeof ops[0] === 'number' && v >= ops[0],
  lt: (v, ops) => typeof v === 'number' && typeof ops[0] === 'number' && v < ops[0],
  lte: (v, ops) => typeof v === 'number' && typeof ops[0] === 'number' && v <= ops[0],
};

function compileComparison(
  field: string,
  opName: string,
  operand: Operand,
  env: PredicateCompileEnv,
): Predicate {
  const get = compileField(field);
  const test = TESTS[opName]!;
  const resolved = compileOperand(operand, env);
  if ('constant' in resolved) {
    const ops = resolved.constant;
    // Membership against a constant list is the common case: a Set makes it O(1).
    if ((opName === 'equals' || opName === 'in') && ops.length > 4) {
      const set = new Set(ops);
      return (e) => {
        const v = get(e);
        if (v === undefined) return false;
        if (Array.isArray(v)) return v.some((x) => set.has(x));
        return set.has(v);
      };
    }
    if ((opName === 'equals' || opName === 'in') && ops.length === 1) {
      const only = ops[0];
      return (e) => {
        const v = get(e);
        if (Array.isArray(v)) return v.includes(only);
        return v === only;
      };
    }
    return (e) => {
      const v = get(e);
      if (v === undefined) return false;
      if (Array.isArray(v)) return v.some((x) => test(x, ops));
      return test(v, ops);
    };
  }
  const dyn = resolved.dynamic;
  // A ref's values come from an event: values, never patterns (a resource named `*` is one value).
  if (opName === 'glob') {
    const glob = test;
    return (e, env2) => {
      const v = get(e);
      if (v === undefined) return false;
      const ops = dyn(env2);
      if (ops === undefined) return false;
      const literal = ops.map((o) => (typeof o === 'string' ? globForValue(o) : o));
      if (Array.isArray(v)) return v.some((x) => glob(x, literal));
      return glob(v, literal);
    };
  }
  return (e, env2) => {
    const v = get(e);
    if (v === undefined) return false;
    const ops = dyn(env2);
    if (ops === undefined) return false;
    if (Array.isArray(v)) return v.some((x) => test(x, ops));
    return test(v, ops);
  };
}

/** Entity paths of what an action is addressed to (its targets), not its arguments or output. */
const isTargetPath = (path: string) =>
  path.startsWith('data.targets.') || path === 'data.destination' || path === 'data.resource';

/**
 * provenance: some value at `field` (default: the action's targets, destination and resource)
 * that the gateway fingerprinted has this provenance (rules/builtin/provenance.ts explains it).
 */
function compileProvenanceTest(want: Provenance, field: string | undefined): Predicate {
  const under =
    field === undefined ? isTargetPath : (path: string) => path === field || path.startsWith(`${field}.`);
  return (e, env) => {
    if (e.type !== 'action' || e.entities === undefined) return false;
    const task = env.task;
    for (const s of e.entities) {
      if (s.path.startsWith('data.output') || !under(s.path)) continue;
      const p: Provenance = task?.trustedFps?.includes(s.fp)
        ? 'declared'
        : task?.outputFps?.includes(s.fp)
          ? 'tool_output'
          : 'new';
      if (p === want) return true;
    }
    return false;
  };
}

/** in_scope / outside_scope: compare against the task's current declared scope. */
function compileScopeTest(element: string, field: string | undefined, outside: boolean): Predicate {
  switch (element) {
    case 'egress': {
      const get = compileField(field ?? 'data.destination');
      return (e, env) => {
        const v = get(e);
        if (typeof v !== 'string' || env.scope === undefined) return false;
        return env.scope.egress(destinationHost(v)) !== outside;
      };
    }
    case 'data_classes': {
      const get = compileField(field ?? 'data.data_classes');
      return (e, env) => {
        const v = get(e);
        if (v === undefined || env.scope === undefined) return false;
        const values = asArray(v);
        if (values.length === 0) return false;
        const inside = values.every((c) => typeof c === 'string' && env.scope!.dataClasses.has(c));
        return inside !== outside;
      };
    }
    case 'allow':
    case 'deny':
    case 'approval_required':
      return (e, env) => {
        if (e.type !== 'action' || env.scope === undefined) return false;
        const scope = env.scope;
        let inside: boolean;
        if (element === 'approval_required') inside = requiredApprovalEntry(scope, e.data) !== undefined;
        else {
          // Every resource of a multi-target call: in allow when all are, in deny when any is.
          const a = e.data;
          const each = resourcesOf(a).map((resource) =>
            resource === a.resource ? a : { tool: a.tool, operation: a.operation, resource },
          );
          const denied = each.some((on) => scope.deny.some((x) => entryMatches(x, on)));
          inside =
            element === 'deny'
              ? denied
              : !denied && each.every((on) => scope.allow.some((x) => entryMatches(x, on)));
        }
        return inside !== outside;
      };
    default:
      return FALSE;
  }
}

export function compileCondition(cond: Condition, env: PredicateCompileEnv): Predicate {
  if ('all' in cond) {
    const parts = cond.all.map((c) => compileCondition(c, env));
    if (parts.length === 1) return parts[0]!;
    if (parts.length === 2) {
      const [a, b] = parts as [Predicate, Predicate];
      return (e, x) => a(e, x) && b(e, x);
    }
    return (e, x) => {
      for (const p of parts) if (!p(e, x)) return false;
      return true;
    };
  }
  if ('any' in cond) {
    const parts = cond.any.map((c) => compileCondition(c, env));
    return (e, x) => {
      for (const p of parts) if (p(e, x)) return true;
      return false;
    };
  }
  if ('not' in cond) {
    const inner = compileCondition(cond.not, env);
    return (e, x) => !inner(e, x);
  }
  if ('macro' in cond) {
    env.usedMacros.add(cond.macro);
    const body = env.macros.get(cond.macro);
    const stack = env.macroStack ?? [];
    if (body === undefined) {
      env.problems.push({ code: 'AT_ERR_RULES_UNKNOWN_MACRO', message: `unknown macro '${cond.macro}'` });
      return FALSE;
    }
    if (stack.includes(cond.macro)) {
      env.problems.push({
        code: 'AT_ERR_RULES_MACRO_CYCLE',
        message: `macro cycle: ${[...stack, cond.macro].join(' → ')}`,
      });
      return FALSE;
    }
    return compileCondition(body, { ...env, macroStack: [...stack, cond.macro] });
  }
  if ('in_scope' in cond) return compileScopeTest(cond.in_scope, cond.field, false);
  if ('outside_scope' in cond) return compileScopeTest(cond.outside_scope, cond.field, true);
  if ('provenance' in cond) return compileProvenanceTest(cond.provenance, cond.field);
  if ('exists' in cond) {
    const get = compileField(cond.field);
    const want = cond.exists;
    return (e) => {
      const v = get(e);
      const present = v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
      return present === want;
    };
  }
  const c = cond as Record<string, unknown> & { field: string };
  for (const name of Object.keys(TESTS)) {
    if (c[name] !== undefined) return compileComparison(c.field, name, c[name] as Operand, env);
  }
  return TRUE;
}

/** Does the condition compare with an earlier step's value anywhere (macros expanded)? */
export function usesRefs(cond: Condition, macros: ReadonlyMap<string, Condition>, depth = 0): boolean {
  if (depth > 32) return true;
  if ('all' in cond) return cond.all.some((c) => usesRefs(c, macros, depth + 1));
  if ('any' in cond) return cond.any.some((c) => usesRefs(c, macros, depth + 1));
  if ('not' in cond) return usesRefs(cond.not, macros, depth + 1);
  if ('macro' in cond) {
    const body = macros.get(cond.macro);
    return body !== undefined && usesRefs(body, macros, depth + 1);
  }
  return Object.values(cond).some(
    (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'ref' in v,
  );
}

/**
 * The conjuncts of a condition that read only the event (no refs), or undefined if there are
 * none. The matcher evaluates them once per event instead of once per pending partial match.
 */
export function refFreePart(
  cond: Condition,
  macros: ReadonlyMap<string, Condition>,
  depth = 0,
): Condition | undefined {
  if (depth > 32) return undefined; // macro cycle: reported by compileCondition
  if (!usesRefs(cond, macros)) return cond;
  let parts: Condition[] = [];
  if ('all' in cond) parts = cond.all;
  else if ('macro' in cond && macros.get(cond.macro))
    return refFreePart(macros.get(cond.macro)!, macros, depth + 1);
  const free = parts.filter((c) => !usesRefs(c, macros));
  return free.length > 0 ? { all: free } : undefined;
}

/**
 * Event types a condition can match, or null for "any". Read from `type` comparisons so rules are
 * indexed by event type and an event only visits the rules that can use it.
 */
export function conditionTypes(
  cond: Condition,
  macros: ReadonlyMap<string, Condition>,
  depth = 0,
): Set<string> | null {
  if (depth > 32) return null;
  if ('all' in cond) {
    let result: Set<string> | null = null;
    for (const c of cond.all) {
      const t = conditionTypes(c, macros, depth + 1);
      if (t === null) continue;
      const prev: Set<string> | null = result;
      result = prev === null ? t : new Set<string>([...prev].filter((x: string) => t.has(x)));
    }
    return result;
  }
  if ('any' in cond) {
    const result = new Set<string>();
    for (const c of cond.any) {
      const t = conditionTypes(c, macros, depth + 1);
      if (t === null) return null;
      for (const x of t) result.add(x);
    }
    return result;
  }
  if ('macro' in cond) {
    const body = macros.get(cond.macro);
    return body === undefined ? null : conditionTypes(body, macros, depth + 1);
  }
  if ('field' in cond && cond.field === 'type') {
    const c = cond as { equals?: unknown; in?: unknown };
    const v = c.equals ?? c.in;
    if (typeof v === 'string') return new Set([v]);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return new Set(v as string[]);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Dispatch: which steps an event can possibly match, decided from a few cheap fields.
//
// Most events cannot match most steps: a read cannot be a `delete` step, an event without
// secrets cannot have `output_secret_fps`. `compileMay` turns a condition into a three-valued
// function of the event's *discriminant* (type, data.operation, data.outcome, whether it carries
// secrets/entities): NO when the condition is false for every event with that discriminant, YES
// when true for all of them, MAYBE otherwise. The matcher caches the answers per discriminant and
// skips what is NO; everything else is evaluated exactly as before.

export const NO = 0;
export const YES = 1;
export const MAYBE = 2;
export type Tri = typeof NO | typeof YES | typeof MAYBE;

/** The fields a dispatch decision reads, as a tiny event (only these members). */
export interface Discriminant {
  type: unknown;
  data: { operation: unknown; outcome: unknown };
  /** Present (non-empty) only when the real event has secrets / entities. */
  secrets?: readonly unknown[];
  entities?: readonly unknown[];
}

export type MayFn = (d: Discriminant) => Tri;

/** Fields whose value the discriminant holds exactly. */
const DISCRIMINANT_FIELDS = new Set(['type', 'data.operation', 'data.outcome']);
/** Virtual fields that are certainly absent when the event has no secrets / entities. */
const SIGHTING_FIELDS: Record<string, 'secrets' | 'entities'> = {
  output_secret_fps: 'secrets',
  argument_secret_fps: 'secrets',
  output_entity_fps: 'entities',
  argument_entity_fps: 'entities',
};

const ALWAYS_MAYBE: MayFn = () => MAYBE;

function isRef(op: unknown): boolean {
  return op !== null && typeof op === 'object' && !Array.isArray(op) && 'ref' in op;
}

export function compileMay(cond: Condition, env: PredicateCompileEnv, depth = 0): MayFn {
  if (depth > 32) return ALWAYS_MAYBE;
  if ('all' in cond) {
    const parts = cond.all.map((c) => compileMay(c, env, depth + 1));
    return (d) => {
      let r: Tri = YES;
      for (const p of parts) {
        const v = p(d);
        if (v === NO) return NO;
        if (v === MAYBE) r = MAYBE;
      }
      return r;
    };
  }
  if ('any' in cond) {
    const parts = cond.any.map((c) => compileMay(c, env, depth + 1));
    return (d) => {
      let r: Tri = NO;
      for (const p of parts) {
        const v = p(d);
        if (v === YES) return YES;
        if (v === MAYBE) r = MAYBE;
      }
      return r;
    };
  }
  if ('not' in cond) {
    const inner = compileMay(cond.not, env, depth + 1);
    return (d) => {
      const v = inner(d);
      return v === MAYBE ? MAYBE : v === YES ? NO : YES;
    };
  }
  if ('macro' in cond) {
    const body = env.macros.get(cond.macro);
    return body === undefined ? ALWAYS_MAYBE : compileMay(body, env, depth + 1);
  }
  if (
    !('field' in cond) ||
    typeof cond.field !== 'string' ||
    'in_scope' in cond ||
    'outside_scope' in cond ||
    'provenance' in cond
  )
    return ALWAYS_MAYBE;
  const field = cond.field;
  const sighting = SIGHTING_FIELDS[field];
  const exactField = DISCRIMINANT_FIELDS.has(field);
  if (!exactField && sighting === undefined) return ALWAYS_MAYBE;
  const usesRef = Object.values(cond).some(isRef);
  if (exactField && usesRef) return ALWAYS_MAYBE;
  // The leaf's own predicate, run on the discriminant: exact, because it reads only the field the
  // discriminant holds (or a sighting field that is certainly absent when there are no sightings).
  // Compiled against a scratch environment so refs/lists bookkeeping of the real rule is untouched.
  const exact = compileCondition(cond, {
    ...env,
    refs: new Set(),
    usedMacros: new Set(),
    usedLists: new Set(),
    problems: [],
  });
  const none: EvalEnv = { task: undefined, scope: undefined, captures: undefined };
  if (sighting !== undefined)
    return (d) => (d[sighting] !== undefined ? MAYBE : exact(d as unknown as AgentEvent, none) ? YES : NO);
  return (d) => (exact(d as unknown as AgentEvent, none) ? YES : NO);
}
