import { type Condition, canonicalJson, type RuleItem, type Scalar } from '../../../../schemas/index.js';
import { compileGlob } from '../../../platform/glob.js';
import type { RuleMeta } from '../catalogue.js';
import { frameworkRef } from '../frameworks.js';
import type { Collected } from './collect.js';
import { parseDuration } from './duration.js';
import { compileField, isKnownField } from './fields.js';
import {
  type CompileProblem,
  compileCondition,
  compileMay,
  conditionTypes,
  type MayFn,
  type Predicate,
  type PredicateCompileEnv,
  refFreePart,
} from './predicate.js';
import type { Located } from './read.js';
import type { Capture, CompiledSequenceRule, CompiledStep, RuleLoadIssue } from './types.js';

// Stage 3 of the rules loader, for one rule (compile.ts runs it for each): expand macros and
// lists, resolve step refs, build the step predicates, exceptions and captures, check field and
// framework names, and find the event types the rule can match.

const TEMPLATE_ALIASES: Record<string, string> = {
  tool: 'data.tool',
  operation: 'data.operation',
  resource: 'data.resource',
  destination: 'data.destination',
  event: 'event_id',
  action: 'action_text',
};

function walkFields(cond: Condition, out: string[]): void {
  if ('all' in cond) for (const c of cond.all) walkFields(c, out);
  else if ('any' in cond) for (const c of cond.any) walkFields(c, out);
  else if ('not' in cond) walkFields(cond.not, out);
  else if ('field' in cond && typeof cond.field === 'string') out.push(cond.field);
}

export function compileRule(
  loc: Located<RuleItem>,
  c: Collected,
  usedMacros: Set<string>,
  usedLists: Set<string>,
  errors: RuleLoadIssue[],
  warnings: RuleLoadIssue[],
): CompiledSequenceRule | undefined {
  const rule = loc.value;
  const at = { file: loc.file, line: loc.line, item: `rule ${rule.id}` };
  const macros = new Map([...c.macros].map(([k, v]) => [k, v.value]));
  const refs = new Set<string>();
  const ruleMacros = new Set<string>();
  const ruleLists = new Set<string>();
  const problems: CompileProblem[] = [];
  const env = (earlierSteps: string[]): PredicateCompileEnv => ({
    lists: c.lists,
    macros,
    earlierSteps,
    refs,
    usedMacros: ruleMacros,
    usedLists: ruleLists,
    problems,
  });

  const seq = rule.sequence;
  const steps: CompiledStep[] = [];
  const names: string[] = [];
  let pendingGuard: Predicate | undefined;
  let pendingMayGuard: MayFn | undefined;
  let leadingAbsent: Predicate | undefined;
  let mayLeadingAbsent: MayFn | undefined;
  const conditions: Condition[] = [];
  seq.steps.forEach((s, i) => {
    if ('absent' in s) {
      conditions.push(s.absent);
      if (pendingGuard !== undefined) {
        problems.push({
          code: 'AT_ERR_RULES_ABSENT',
          message: `step ${i + 1}: two absent steps in a row; combine them with any`,
        });
      }
      const p = compileCondition(s.absent, env(names));
      const may = compileMay(s.absent, env(names));
      if (steps.length === 0) {
        leadingAbsent = p;
        mayLeadingAbsent = may;
      } else {
        pendingGuard = p;
        pendingMayGuard = may;
      }
      if (i === seq.steps.length - 1) {
        problems.push({
          code: 'AT_ERR_RULES_ABSENT',
          message:
            'an absent step cannot be last: a match would need a timer, and the detector only reacts to events',
        });
      }
      return;
    }
    if (names.includes(s.name))
      problems.push({ code: 'AT_ERR_RULES_DUPLICATE', message: `step name '${s.name}' is used twice` });
    conditions.push(s.when);
    const when = compileCondition(s.when, env([...names]));
    const free = refFreePart(s.when, macros);
    const eventOnly = free === s.when;
    const step: CompiledStep = {
      name: s.name,
      when,
      eventOnly,
      captures: [],
      mayWhen: compileMay(s.when, env([...names])),
    };
    if (!eventOnly && free !== undefined) step.pre = compileCondition(free, env([...names]));
    if (pendingGuard !== undefined) step.guard = pendingGuard;
    if (pendingMayGuard !== undefined) step.mayGuard = pendingMayGuard;
    pendingGuard = undefined;
    pendingMayGuard = undefined;
    steps.push(step);
    names.push(s.name);
  });
  if (steps.length === 0)
    problems.push({
      code: 'AT_ERR_RULES_ABSENT',
      message: 'a sequence needs at least one step that is not absent',
    });
  const until = seq.until ? compileCondition(seq.until, env([])) : undefined;
  const mayUntil = seq.until ? compileMay(seq.until, env([])) : undefined;
  if (seq.until) conditions.push(seq.until);
  const exceptions: Predicate[] = rule.exceptions.map((ex) => {
    const getters = ex.fields.map((f) => compileField(f));
    const comps = ex.comps ?? ex.fields.map(() => '=');
    return (e) =>
      ex.values.some((row) =>
        row.every((want, i) => {
          const v = getters[i]!(e);
          const wants = Array.isArray(want) ? want : [want];
          if (comps[i] === 'glob')
            return typeof v === 'string' && wants.some((g) => typeof g === 'string' && compileGlob(g)(v));
          return wants.includes(v as Scalar);
        }),
      );
  });

  // Captures: refs from later steps plus `{step.field}` placeholders in the explanation.
  const captureKeys = new Set(refs);
  for (const m of rule.explanation.matchAll(/\{([a-z0-9_]+)\.([a-z0-9_.[\]]+)\}/g)) {
    if (names.includes(m[1]!)) captureKeys.add(`${m[1]}.${m[2]}`);
  }
  for (const key of captureKeys) {
    const dot = key.indexOf('.');
    const stepName = key.slice(0, dot);
    const field = key.slice(dot + 1);
    const step = steps.find((s) => s.name === stepName);
    if (step === undefined) continue;
    const capture: Capture = { key, get: compileField(TEMPLATE_ALIASES[field] ?? field) };
    step.captures.push(capture);
  }

  const fields: string[] = [seq.by];
  for (const cond of conditions) walkFields(cond, fields);
  for (const f of fields) {
    if (!isKnownField(f))
      warnings.push({
        code: 'AT_WARN_RULES_UNKNOWN_FIELD',
        message: `field '${f}' is not an event field or virtual field`,
        ...at,
      });
  }
  const frameworks = rule.frameworks.flatMap((id) => {
    const ref = frameworkRef(id);
    if (ref === undefined)
      warnings.push({
        code: 'AT_WARN_RULES_UNKNOWN_FRAMEWORK',
        message: `framework reference '${id}' is not recognised`,
        ...at,
      });
    return ref ? [ref] : [];
  });

  for (const m of ruleMacros) usedMacros.add(m);
  for (const l of ruleLists) usedLists.add(l);
  if (problems.length > 0) {
    for (const p of problems) errors.push({ ...p, ...at });
    return undefined;
  }

  let types: Set<string> | null = new Set();
  for (const cond of conditions) {
    const t = conditionTypes(cond, macros);
    if (t === null) {
      types = null;
      break;
    }
    for (const x of t) types.add(x);
  }
  const meta: RuleMeta = {
    id: rule.id,
    severity: rule.severity,
    title: rule.title,
    explanation: rule.explanation,
    frameworks,
    ...(rule.scope_element !== undefined ? { scopeElement: rule.scope_element } : {}),
  };
  const fingerprint = canonicalJson({
    rule,
    macros: [...ruleMacros].sort().map((m) => macros.get(m) ?? null),
    lists: [...ruleLists].sort().map((l) => c.lists.get(l) ?? null),
  });
  const compiled: CompiledSequenceRule = {
    meta,
    item: rule,
    byField: seq.by,
    by: compileField(seq.by),
    withinMs: parseDuration(seq.within),
    steps,
    exceptions,
    types,
    fingerprint,
  };
  if (leadingAbsent !== undefined) compiled.leadingAbsent = leadingAbsent;
  if (mayLeadingAbsent !== undefined) compiled.mayLeadingAbsent = mayLeadingAbsent;
  if (until !== undefined) compiled.until = until;
  if (mayUntil !== undefined) compiled.mayUntil = mayUntil;
  return compiled;
}
