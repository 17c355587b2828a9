import { isSeq, LineCounter, parseDocument } from 'yaml';
import {
  type Condition,
  canonicalJson,
  EVENT_TYPES,
  RULES_ENGINE_VERSION,
  type RuleItem,
  RulesFileItem,
  type Scalar,
} from '../../../../schemas/index.js';
import { compileGlob } from '../../../platform/glob.js';
import type { RuleMeta } from '../catalogue.js';
import { frameworkRef } from '../frameworks.js';
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
import type {
  Capture,
  CompiledSequenceRule,
  CompiledStep,
  RuleLoadIssue,
  RuleLoadResult,
  RuleSet,
} from './types.js';

// The rules loader runs in three stages (after Falco):
//   read    — parse YAML, schema-check each item with schemas/rule.ts, remember file and line
//   collect — merge the files in order: lists (with append), macros (with override), rules by id
//   compile — expand macros and lists, resolve refs, build predicates, index rules by event type
// Every problem has a code (AT_ERR_RULES_* or AT_WARN_RULES_*) and a location.

export interface RulesSource {
  /** File name, for locations. */
  name: string;
  text: string;
}

interface Located<T> {
  value: T;
  file: string;
  line: number;
  index: number;
}

interface ReadResult {
  items: Located<RulesFileItem>[];
  errors: RuleLoadIssue[];
}

/** Stage 1: parse and schema-check one file. */
export function readRules(source: RulesSource): ReadResult {
  const errors: RuleLoadIssue[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      errors.push({
        code: 'AT_ERR_RULES_YAML',
        message: e.message.split('\n')[0]!,
        file: source.name,
        line: lineCounter.linePos(e.pos[0]).line,
      });
    }
    return { items: [], errors };
  }
  if (doc.contents === null) return { items: [], errors };
  if (!isSeq(doc.contents)) {
    errors.push({
      code: 'AT_ERR_RULES_NOT_A_LIST',
      message: 'a rules file is a YAML list of items',
      file: source.name,
      line: 1,
    });
    return { items: [], errors };
  }
  const items: Located<RulesFileItem>[] = [];
  doc.contents.items.forEach((node, index) => {
    const offset = (node as { range?: [number, number, number] }).range?.[0] ?? 0;
    const line = lineCounter.linePos(offset).line;
    const raw = (node as { toJSON(): unknown }).toJSON();
    const parsed = RulesFileItem.safeParse(raw);
    if (!parsed.success) {
      const kind = raw !== null && typeof raw === 'object' ? Object.keys(raw)[0] : undefined;
      const inner =
        kind !== undefined ? (raw as Record<string, { id?: string; name?: string }>)[kind] : undefined;
      const label = inner?.id ?? inner?.name;
      const issue = parsed.error.issues[0]!;
      errors.push({
        code: 'AT_ERR_RULES_SCHEMA',
        message: `${issue.path.map(String).join('.') || '(item)'}: ${issue.code === 'invalid_union' ? 'not a valid list, macro, rule or header item (check the keys and the condition shapes)' : issue.message}`,
        file: source.name,
        line,
        item: label ? `${kind} ${label}` : `item #${index + 1}`,
      });
      return;
    }
    items.push({ value: parsed.data, file: source.name, line, index });
  });
  return { items, errors };
}

interface Collected {
  name: string;
  version: string;
  lists: Map<string, Scalar[]>;
  macros: Map<string, Located<Condition>>;
  rules: Map<string, Located<RuleItem>>;
  listLoc: Map<string, Located<unknown>>;
}

/** Stage 2: merge files in order. Later files tune earlier ones through append/override. */
export function collectRules(files: ReadResult[]): { collected: Collected; errors: RuleLoadIssue[] } {
  const errors: RuleLoadIssue[] = [];
  const c: Collected = {
    name: 'rules',
    version: '0.0.0',
    lists: new Map(),
    macros: new Map(),
    rules: new Map(),
    listLoc: new Map(),
  };
  for (const f of files) {
    for (const loc of f.items) {
      const item = loc.value;
      const at = { file: loc.file, line: loc.line };
      if ('required_engine_version' in item) {
        if (item.required_engine_version > RULES_ENGINE_VERSION) {
          errors.push({
            code: 'AT_ERR_RULES_ENGINE_VERSION',
            message: `needs engine version ${item.required_engine_version}; this detector speaks ${RULES_ENGINE_VERSION}`,
            ...at,
          });
        }
      } else if ('ruleset' in item) {
        c.name = item.ruleset.name;
        c.version = item.ruleset.version;
      } else if ('list' in item) {
        const { name, items, append } = item.list;
        const existing = c.lists.get(name);
        if (append) {
          if (existing === undefined) {
            errors.push({
              code: 'AT_ERR_RULES_APPEND_UNKNOWN',
              message: `append to undefined list '${name}'`,
              ...at,
              item: `list ${name}`,
            });
          } else existing.push(...items);
        } else if (existing !== undefined) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `list '${name}' is defined twice (use append: true)`,
            ...at,
            item: `list ${name}`,
          });
        } else {
          c.lists.set(name, [...items]);
          c.listLoc.set(name, { ...loc, value: null });
        }
      } else if ('macro' in item) {
        const { name, condition, override } = item.macro;
        const exists = c.macros.has(name);
        if (exists && !override) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `macro '${name}' is defined twice (use override: true)`,
            ...at,
            item: `macro ${name}`,
          });
        } else if (!exists && override) {
          errors.push({
            code: 'AT_ERR_RULES_APPEND_UNKNOWN',
            message: `override of undefined macro '${name}'`,
            ...at,
            item: `macro ${name}`,
          });
        } else {
          c.macros.set(name, { ...loc, value: condition });
        }
      } else if ('rule' in item) {
        if (c.rules.has(item.rule.id)) {
          errors.push({
            code: 'AT_ERR_RULES_DUPLICATE',
            message: `rule id ${item.rule.id} is used twice`,
            ...at,
            item: `rule ${item.rule.id}`,
          });
        } else c.rules.set(item.rule.id, { ...loc, value: item.rule });
      }
    }
  }
  return { collected: c, errors };
}

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

function compileRule(
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

/** Stage 3: compile the collected items into a RuleSet. */
export function compileRules(c: Collected): {
  ruleSet?: RuleSet;
  errors: RuleLoadIssue[];
  warnings: RuleLoadIssue[];
} {
  const errors: RuleLoadIssue[] = [];
  const warnings: RuleLoadIssue[] = [];
  const usedMacros = new Set<string>();
  const usedLists = new Set<string>();
  const rules: CompiledSequenceRule[] = [];
  for (const loc of c.rules.values()) {
    if (!loc.value.enabled) continue;
    const compiled = compileRule(loc, c, usedMacros, usedLists, errors, warnings);
    if (compiled) rules.push(compiled);
  }
  // Macros compile inside rules, so a list used only by a used macro is marked used there.
  for (const [name, loc] of c.macros) {
    if (!usedMacros.has(name))
      warnings.push({
        code: 'AT_WARN_RULES_UNUSED_MACRO',
        message: `macro '${name}' is never used`,
        file: loc.file,
        line: loc.line,
        item: `macro ${name}`,
      });
  }
  for (const [name, loc] of c.listLoc) {
    if (!usedLists.has(name))
      warnings.push({
        code: 'AT_WARN_RULES_UNUSED_LIST',
        message: `list '${name}' is never used`,
        file: loc.file,
        line: loc.line,
        item: `list ${name}`,
      });
  }
  if (errors.length > 0) return { errors, warnings };
  const byType = new Map<string, CompiledSequenceRule[]>();
  for (const type of EVENT_TYPES) {
    byType.set(
      type,
      rules.filter((r) => r.types === null || r.types.has(type)),
    );
  }
  return { ruleSet: { name: c.name, version: c.version, rules, byType }, errors, warnings };
}

/** Read, collect and compile rules files (in order: defaults first, then local tuning). */
export function loadRules(sources: readonly RulesSource[]): RuleLoadResult {
  const read = sources.map(readRules);
  const readErrors = read.flatMap((r) => r.errors);
  const { collected, errors: collectErrors } = collectRules(read);
  const { ruleSet, errors, warnings } = compileRules(collected);
  const all = [...readErrors, ...collectErrors, ...errors];
  if (all.length > 0 || ruleSet === undefined) return { ok: false, errors: all, warnings };
  return { ok: true, ruleSet, errors: [], warnings };
}

/** An empty rule set: built-in checks only. */
export function emptyRuleSet(): RuleSet {
  return { name: 'none', version: '0.0.0', rules: [], byType: new Map() };
}
