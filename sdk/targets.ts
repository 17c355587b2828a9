import {
  type ActionTarget,
  type Adjustment,
  MAX_TARGETS,
  type RecipientForm,
  type TargetKind,
} from '../schemas/index.js';
import { fitText } from './adjust.js';

// Targets of a call, extracted from its arguments by a declared mapping: `{ kind: 'recipient',
// from: 'cc' }` reads `args[0].cc` (a string, a list, or a comma-separated list of addresses).
// Every value becomes one target, so the detector judges each of them, not only the first.

export interface TargetMapping<A extends unknown[]> {
  kind: TargetKind;
  /** Dotted path into the first argument (`to`, `message.cc`, `members`), or a function of the arguments. */
  from: string | ((...args: A) => unknown);
  /** For recipients: which scope.recipients list it is held against (inferred from the value when absent). */
  form?: RecipientForm;
  /** Defaults to the last segment of a path `from` (`cc`, `members`). */
  role?: string;
}

const MAX_VALUE = 512;

function at(root: unknown, path: string): unknown {
  let v = root;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Scalars of a value: lists flattened; a string listing several addresses split into each. */
function scalars(v: unknown, kind: TargetKind, out: string[], depth = 0): void {
  if (v === undefined || v === null || depth > 4) return;
  if (Array.isArray(v)) {
    for (const x of v) scalars(x, kind, out, depth + 1);
    return;
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    out.push(String(v));
    return;
  }
  if (typeof v !== 'string') return;
  const s = v.trim();
  if (s === '') return;
  // "a@x.example, b@y.example" is two recipients; "Doe, Jane <j@x.example>" is one.
  if (kind === 'recipient' && /[,;]/.test(s)) {
    const parts = s
      .split(/[,;]/)
      .map((p) => p.trim())
      .filter((p) => p !== '');
    if (parts.every((p) => p.includes('@'))) {
      out.push(...parts);
      return;
    }
  }
  out.push(s);
}

export interface ExtractedTargets {
  targets: ActionTarget[];
  adjustments: Adjustment[];
}

/**
 * The targets the mapping names in these arguments, in mapping order, each (kind, value) once.
 * `first` puts the call's own resource / destination first of its kind, as the schema requires.
 */
export function extractTargets<A extends unknown[]>(
  mappings: readonly TargetMapping<A>[],
  args: A,
  first: { resource?: string | undefined; destination?: string | undefined },
): ExtractedTargets {
  const targets: ActionTarget[] = [];
  const adjustments: Adjustment[] = [];
  const seen = new Set<string>();
  let dropped = 0;
  const add = (t: ActionTarget) => {
    const key = `${t.kind}\u0000${t.value}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (targets.length >= MAX_TARGETS) {
      dropped++;
      return;
    }
    targets.push(t);
  };
  // Cut as fitFields cuts data.resource / data.destination, so the two stay equal.
  if (first.resource !== undefined)
    add({ kind: 'resource', value: fitText('data.resource', first.resource, MAX_VALUE).value });
  if (first.destination !== undefined)
    add({ kind: 'destination', value: fitText('data.destination', first.destination, MAX_VALUE).value });
  for (const m of mappings) {
    const raw = typeof m.from === 'function' ? m.from(...args) : at(args[0], m.from);
    const values: string[] = [];
    scalars(raw, m.kind, values);
    const role = m.role ?? (typeof m.from === 'string' ? m.from.split('.').at(-1) : undefined);
    for (const value of values) {
      const i = targets.length;
      const fit = fitText(`data.targets.${i}.value`, value, MAX_VALUE);
      if (fit.adjustment) adjustments.push(fit.adjustment);
      const t: ActionTarget = { kind: m.kind, value: fit.value };
      if (m.form !== undefined) t.form = m.form;
      if (role !== undefined && role !== '') t.role = role.slice(0, 64);
      add(t);
    }
  }
  if (dropped > 0)
    adjustments.push({
      path: 'data.targets',
      reason: 'truncated',
      original_length: targets.length + dropped,
    });
  return { targets, adjustments };
}
