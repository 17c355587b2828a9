import { z } from 'zod';
import { Severity } from './alert.js';

// The rules-file contract (after Falco): a YAML list of `list`, `macro` and `rule` items under a
// `required_engine_version`. Conditions are structured data, not a free-text language. A
// condition compares an event field with a literal, a named list, a field captured by an earlier
// step of the same sequence (`ref`), or the task's declared scope (`in_scope` / `outside_scope`).

export const RULES_ENGINE_VERSION = 1 as const;

/** Dotted event path; `[]` flattens an array (`secrets[].fp`). Virtual fields are listed in docs. */
export const FieldPath = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[a-z_][a-z0-9_]*(\[\])?(\.[a-z_][a-z0-9_]*(\[\])?)*$/,
    'must be a dotted field path such as data.tool or secrets[].fp',
  );

const Scalar = z.union([z.string().max(512), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof Scalar>;

/** Where a comparison value comes from. */
export const Operand = z.union([
  Scalar,
  z.array(Scalar).max(512),
  z.strictObject({ list: z.string().min(1).max(64) }),
  /** `<step name>.<field path>`: the value(s) captured when that earlier step matched. */
  z.strictObject({ ref: z.string().min(3).max(160) }),
]);
export type Operand = z.infer<typeof Operand>;

export const SCOPE_ELEMENTS = ['egress', 'data_classes', 'allow', 'deny', 'approval_required'] as const;
export const ScopeElementName = z.enum(SCOPE_ELEMENTS);

export const COMPARISONS = [
  'equals',
  'in',
  'glob',
  /** The field's value is a glob (an approval's target resource) that matches one of the operand's values. */
  'matched_by',
  'contains',
  'starts_with',
  'gt',
  'gte',
  'lt',
  'lte',
] as const;

/**
 * Where a value an action names came from: `tool_output` (first seen in an earlier tool's output
 * of the task: possibly injected), `declared` (named by the declaration or an approved scope
 * change), `new` (named nowhere before: a guess). Judged on the gateway's entity fingerprints.
 */
export const Provenance = z.enum(['tool_output', 'declared', 'new']);
export type Provenance = z.infer<typeof Provenance>;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { macro: string }
  | { field: string; exists: boolean }
  | { field?: string; in_scope: z.infer<typeof ScopeElementName> }
  | { field?: string; outside_scope: z.infer<typeof ScopeElementName> }
  | { field?: string; provenance: Provenance }
  | ({ field: string } & { [K in (typeof COMPARISONS)[number]]?: Operand });

const Comparison = z
  .strictObject({
    field: FieldPath,
    equals: Operand.optional(),
    in: Operand.optional(),
    glob: Operand.optional(),
    matched_by: Operand.optional(),
    contains: Operand.optional(),
    starts_with: Operand.optional(),
    gt: Operand.optional(),
    gte: Operand.optional(),
    lt: Operand.optional(),
    lte: Operand.optional(),
  })
  .refine((c) => COMPARISONS.filter((k) => c[k] !== undefined).length === 1, {
    message: `a comparison needs exactly one of ${COMPARISONS.join(', ')}`,
  });

export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Condition).min(1).max(64) }),
    z.strictObject({ any: z.array(Condition).min(1).max(64) }),
    z.strictObject({ not: Condition }),
    z.strictObject({ macro: z.string().min(1).max(64) }),
    z.strictObject({ field: FieldPath, exists: z.boolean() }),
    z.strictObject({ field: FieldPath.optional(), in_scope: ScopeElementName }),
    z.strictObject({ field: FieldPath.optional(), outside_scope: ScopeElementName }),
    z.strictObject({ field: FieldPath.optional(), provenance: Provenance }),
    Comparison,
  ]),
) as z.ZodType<Condition>;

/** `30s`, `5m`, `2h`, `1d`, or milliseconds as a number. */
export const Duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 500ms, 30s, 5m, 2h or 1d'),
]);

export const SequenceStep = z.union([
  z.strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .max(32),
    when: Condition,
  }),
  /** No event matching `absent` may occur between the neighbouring steps (or, first, within the span before the next). */
  z.strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .max(32)
      .optional(),
    absent: Condition,
  }),
]);
export type SequenceStep = z.infer<typeof SequenceStep>;

export const Sequence = z.strictObject({
  by: FieldPath.default('task_id'),
  within: Duration,
  steps: z.array(SequenceStep).min(1).max(8),
  /** An event matching `until` discards the pending matches of its key. */
  until: Condition.optional(),
});

/** Structured exception (Falco-style): suppress when the triggering event's fields equal a row. */
export const RuleException = z.strictObject({
  name: z.string().min(1).max(64),
  fields: z.array(FieldPath).min(1).max(8),
  comps: z.array(z.enum(['=', 'in', 'glob'])).optional(),
  values: z
    .array(z.array(z.union([Scalar, z.array(Scalar)])))
    .max(1024)
    .default([]),
});

export const RuleId = z.string().regex(/^AT-[A-Z]+-\d{3}$/, 'must look like AT-SEQ-001');

export const RuleItem = z.strictObject({
  id: RuleId,
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .max(64),
  title: z.string().min(1).max(200),
  description: z.string().min(1).max(4096),
  severity: Severity,
  maturity: z.enum(['stable', 'incubating', 'sandbox', 'deprecated']).default('stable'),
  enabled: z.boolean().default(true),
  /** `{action}`, `{<step>.tool}`, `{<step>.resource}`, `{<step>.destination}`, `{<step>.event}` … */
  explanation: z.string().min(1).max(2048),
  scope_element: z.string().max(64).optional(),
  frameworks: z.array(z.string().max(32)).max(16).default([]),
  tags: z.array(z.string().max(64)).max(32).default([]),
  sequence: Sequence,
  exceptions: z.array(RuleException).max(32).default([]),
});
export type RuleItem = z.infer<typeof RuleItem>;

export const ListItem = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .max(64),
  items: z.array(Scalar).max(4096),
  /** Add to a list defined earlier (another file) instead of defining it. */
  append: z.boolean().default(false),
});

export const MacroItem = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .max(64),
  condition: Condition,
  /** Replace a macro defined earlier (user tuning) instead of defining it. */
  override: z.boolean().default(false),
});

export const RulesFileItem = z.union([
  z.strictObject({ required_engine_version: z.number().int().positive() }),
  z.strictObject({
    ruleset: z.strictObject({
      name: z.string().min(1).max(64),
      version: z.string().regex(/^\d+\.\d+\.\d+$/),
    }),
  }),
  z.strictObject({ list: ListItem }),
  z.strictObject({ macro: MacroItem }),
  z.strictObject({ rule: RuleItem }),
]);
export type RulesFileItem = z.infer<typeof RulesFileItem>;

export const RulesFile = z.array(RulesFileItem).max(10_000);
