import type { z } from 'zod';

// A fast accept-check generated from a zod schema, for the hot path (the gateway validates every
// event it takes in, the ingester and detector every message without the gateway's mark).
//
// It walks the schema's definition ONCE and builds a tree of plain closures that check the same
// constraints (types, lengths, patterns, bounds, strict keys, literals, enums, discriminated
// unions, defaults) without zod's per-value payloads, issue lists and result objects. Checks it
// does not compile itself (refinements) are zod's own check objects, called as zod calls them.
//
// It only ever ACCEPTS: the result is the value zod would output (same key order, defaults
// applied), or FAIL when anything is off, and then the caller runs zod, which stays the one
// source of error messages. Any doubt is FAIL: a schema node it does not know compiles to a
// check that always fails, and so does any input that is not plain parsed JSON (an object with a
// prototype other than Object.prototype, a `__proto__` member). test/fuzz/fast-validate.test.ts
// holds it to zod on the fuzz suite's events and mutations: same accept/reject, same output.
//
// Unchanged subtrees are returned as they came in (zod copies every object and array): the
// output serialises to the same JSON, and the gateway copies nothing it does not change.

export const FAIL: unique symbol = Symbol('fast-validate: not accepted');
export type Checked = unknown | typeof FAIL;
type Check = (value: unknown) => Checked;

// zod's internals as far as they are read here (zod v4 `_zod.def`).
interface Def {
  type: string;
  checks?: ZodCheck[];
  [k: string]: unknown;
}
interface ZodCheck {
  _zod: { def: { check: string; [k: string]: unknown }; check: (payload: Payload) => void };
}
interface Payload {
  value: unknown;
  issues: unknown[];
}
type Schema = { _zod: { def: Def } };

const never: Check = () => FAIL;
const hasOwn = Object.hasOwn;
const OBJECT_PROTO = Object.prototype;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === OBJECT_PROTO;

/** A zod check object run the way zod runs it; any issue means not accepted. */
function zodCheck(check: ZodCheck): (value: unknown) => boolean {
  return (value) => {
    const payload: Payload = { value, issues: [] };
    check._zod.check(payload);
    return payload.issues.length === 0;
  };
}

type Pred = (value: never) => boolean;

/** One predicate per check of a string, number or array node. */
function checkPreds(checks: ZodCheck[] | undefined): Pred[] {
  const out: Pred[] = [];
  for (const c of checks ?? []) {
    const d = c._zod.def;
    switch (d.check) {
      case 'min_length': {
        const min = d.minimum as number;
        out.push((v: { length: number }) => v.length >= min);
        break;
      }
      case 'max_length': {
        const max = d.maximum as number;
        out.push((v: { length: number }) => v.length <= max);
        break;
      }
      case 'string_format': {
        const re = d.pattern;
        if (d.format === 'regex' && re instanceof RegExp && !re.global && !re.sticky) {
          out.push((v: string) => re.test(v));
        } else out.push(zodCheck(c));
        break;
      }
      case 'greater_than': {
        const min = d.value as number;
        out.push(d.inclusive ? (v: number) => v >= min : (v: number) => v > min);
        break;
      }
      case 'less_than': {
        const max = d.value as number;
        out.push(d.inclusive ? (v: number) => v <= max : (v: number) => v < max);
        break;
      }
      case 'number_format':
        if (d.format === 'safeint') out.push((v: number) => Number.isSafeInteger(v));
        else out.push(zodCheck(c));
        break;
      default:
        out.push(zodCheck(c));
    }
  }
  return out;
}

function allOf(preds: Pred[]): (v: never) => boolean {
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (v) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(v)) return false;
    return true;
  };
}

/** Wraps a node's own check with the checks attached to it (refinements on objects, records). */
function withChecks(inner: Check, checks: ZodCheck[] | undefined): Check {
  if (!checks || checks.length === 0) return inner;
  const ok = allOf(checkPreds(checks));
  return (v) => {
    const out = inner(v);
    return out === FAIL || !ok(out as never) ? FAIL : out;
  };
}

function compileString(def: Def): Check {
  // A string format (`z.iso.datetime()`) is itself a check: its pattern comes first, as in zod.
  const preds: Pred[] = [];
  if (def.format !== undefined) {
    const re = def.pattern;
    if (!(re instanceof RegExp) || re.global || re.sticky) return never;
    preds.push((v: string) => re.test(v));
  }
  preds.push(...checkPreds(def.checks));
  const ok = allOf(preds);
  return (v) => (typeof v === 'string' && ok(v as never) ? v : FAIL);
}

function compileNumber(def: Def): Check {
  if (def.coerce) return never;
  const ok = allOf(checkPreds(def.checks));
  return (v) => (typeof v === 'number' && Number.isFinite(v) && ok(v as never) ? v : FAIL);
}

function compileArray(def: Def): Check {
  const element = compile(def.element as Schema);
  const ok = allOf(checkPreds(def.checks));
  return (v) => {
    if (!Array.isArray(v) || !ok(v as never)) return FAIL;
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const out = element(v[i]);
      if (out === FAIL) return FAIL;
      if (out !== v[i]) {
        copy ??= v.slice();
        copy[i] = out;
      }
    }
    return copy ?? v;
  };
}

interface Member {
  key: string;
  check: Check;
  /** Absent is fine (optional), or gets a default. */
  absent: 'fail' | 'skip' | 'default';
  defaultValue: (() => unknown) | undefined;
}

function member(key: string, schema: Schema): Member {
  const def = schema._zod.def;
  if (def.type === 'optional' && !def.checks?.length)
    return { key, check: compile(def.innerType as Schema), absent: 'skip', defaultValue: undefined };
  if (def.type === 'default' && !def.checks?.length) {
    // zod's getter: a fresh (shallow) copy per use, returned as is without parsing it.
    return {
      key,
      check: compile(def.innerType as Schema),
      absent: 'default',
      defaultValue: () => def.defaultValue,
    };
  }
  return { key, check: compile(schema), absent: 'fail', defaultValue: undefined };
}

function compileObject(def: Def): Check {
  // Only strict objects (unknown keys refused), as every v1 schema is.
  const catchall = (def.catchall as Schema | undefined)?._zod.def;
  if (catchall?.type !== 'never') return never;
  const shape = def.shape as Record<string, Schema>;
  const members = Object.keys(shape).map((k) => member(k, shape[k]!));
  const index = new Map(members.map((m, i) => [m.key, i]));
  return (v) => {
    if (!isPlainObject(v)) return FAIL;
    // Strictness and order in one pass: zod's output lists members in the schema's order.
    let last = -1;
    let inOrder = true;
    for (const k in v) {
      const i = index.get(k);
      if (i === undefined || !hasOwn(v, k)) return FAIL;
      if (i < last) inOrder = false;
      last = i;
    }
    // Members' outputs, kept only from the first one that differs from its input (a default, a
    // copied subtree): most objects pass unchanged, and an array per object was garbage.
    let outs: unknown[] | undefined;
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      // Own members only: `v.constructor` is Object's, not the collector's.
      const x = hasOwn(v, m.key) ? v[m.key] : undefined;
      if (x === undefined) {
        if (m.absent === 'fail') return FAIL;
        if (m.absent === 'default') {
          outs ??= inputsBefore(v, members, i);
          outs[i] = m.defaultValue!();
        }
        continue;
      }
      const out = m.check(x);
      if (out === FAIL) return FAIL;
      if (out !== x) outs ??= inputsBefore(v, members, i);
      if (outs !== undefined) outs[i] = out;
    }
    if (outs === undefined && inOrder) return v;
    const copy: Record<string, unknown> = {};
    for (let i = 0; i < members.length; i++) {
      const key = members[i]!.key;
      const out = outs !== undefined ? outs[i] : hasOwn(v, key) ? v[key] : undefined;
      if (out !== undefined) copy[key] = out;
    }
    return copy;
  };
}

/** The outputs of members `0..i-1` that passed unchanged: their own values (absent: undefined). */
function inputsBefore(v: Record<string, unknown>, members: Member[], i: number): unknown[] {
  const outs: unknown[] = new Array(members.length);
  for (let j = 0; j < i; j++) {
    const key = members[j]!.key;
    if (hasOwn(v, key)) outs[j] = v[key];
  }
  return outs;
}

function compileRecord(def: Def): Check {
  const keyDef = (def.keyType as Schema)._zod.def;
  if (keyDef.type !== 'string' || keyDef.format !== undefined) return never;
  const keyOk = allOf(checkPreds(keyDef.checks));
  const value = compile(def.valueType as Schema);
  return (v) => {
    if (!isPlainObject(v)) return FAIL;
    let copy: Record<string, unknown> | undefined;
    for (const k in v) {
      // zod builds its output by assignment: a `__proto__` key would not stay a member.
      if (k === '__proto__' || !hasOwn(v, k) || !keyOk(k as never)) return FAIL;
      const x = v[k];
      const out = value(x);
      if (out === FAIL) return FAIL;
      if (out !== x) {
        copy ??= { ...v };
        copy[k] = out;
      }
    }
    return copy ?? v;
  };
}

function compileUnion(def: Def): Check {
  const disc = def.discriminator as string | undefined;
  if (disc === undefined) return never;
  const byValue = new Map<unknown, Check>();
  for (const option of def.options as Schema[]) {
    const od = option._zod.def;
    const lit = od.type === 'object' ? (od.shape as Record<string, Schema>)[disc]?._zod.def : undefined;
    if (lit?.type !== 'literal') return never;
    const check = compile(option);
    for (const value of lit.values as unknown[]) if (!byValue.has(value)) byValue.set(value, check);
  }
  return (v) => {
    if (!isPlainObject(v)) return FAIL;
    const check = byValue.get(v[disc]);
    return check === undefined ? FAIL : check(v);
  };
}

function compileNode(schema: Schema): Check {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return compileString(def);
    case 'number':
      return compileNumber(def);
    case 'boolean':
      return withChecks((v) => (typeof v === 'boolean' ? v : FAIL), def.checks);
    case 'literal': {
      const values = new Set(def.values as unknown[]);
      return withChecks((v) => (values.has(v) ? v : FAIL), def.checks);
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return withChecks((v) => (values.has(v) ? v : FAIL), def.checks);
    }
    case 'unknown':
      return withChecks((v) => v, def.checks);
    case 'array':
      return compileArray(def);
    case 'object':
      return withChecks(compileObject(def), def.checks);
    case 'record':
      return withChecks(compileRecord(def), def.checks);
    case 'union':
      return withChecks(compileUnion(def), def.checks);
    case 'nullable': {
      const inner = compile(def.innerType as Schema);
      return withChecks((v) => (v === null ? null : inner(v)), def.checks);
    }
    case 'optional':
    case 'default':
      // Outside an object member these would see `undefined`, which JSON never holds: accept
      // only what the inner schema accepts.
      return withChecks(compile(def.innerType as Schema), def.checks);
    default:
      return never;
  }
}

const compiled = new WeakMap<object, Check>();

/** The schema's compiled check (built once per schema object). */
export function compile(schema: Schema): Check {
  let c = compiled.get(schema);
  if (c === undefined) {
    c = compileNode(schema);
    compiled.set(schema, c);
  }
  return c;
}

/** A fast accept-check for `schema`: zod's output for `input`, or FAIL (then ask zod). */
export function fastValidator<S extends z.ZodType>(schema: S): (input: unknown) => z.output<S> | typeof FAIL {
  return compile(schema as unknown as Schema) as (input: unknown) => z.output<S> | typeof FAIL;
}
