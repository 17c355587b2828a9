import { z } from 'zod';
import { DataClass, Glob, Operation } from '../../schemas/common.js';
import { RecipientForm, TargetKind } from '../../schemas/events/action.js';
import { parseDocument, readDocument } from './config-file.js';
import { compileGlobList, type Matcher } from './glob.js';

// What an upstream server's tools do, as data: tool-name globs → operation class, and argument
// paths → the action's resource and destination. One file per server; the first rule whose
// `match` accepts the tool's (upstream) name wins. A tool no rule matches gets `default`, and the
// proxy logs a warning once per tool, because its operation is then a guess.

/** `{a.b.0}` placeholders name argument paths: object keys and array indexes, dot-separated. */
const PLACEHOLDER = /\{([^{}]*)\}/g;
const PATH_SEGMENT = /^[A-Za-z0-9_$-]+$/;

function templateProblem(t: string): string | undefined {
  const stripped = t.replace(PLACEHOLDER, '');
  if (stripped.includes('{') || stripped.includes('}')) return 'has an unbalanced { or }';
  for (const [, path] of t.matchAll(PLACEHOLDER)) {
    if (!path?.split('.').every((s) => PATH_SEGMENT.test(s))) {
      return `placeholder {${path}} is not an argument path (keys and indexes separated by '.')`;
    }
  }
  return undefined;
}

/** A string with `{argument.path}` placeholders, e.g. `file://{path}` or `github:{owner}/{repo}`. */
export const Template = z
  .string()
  .min(1)
  .max(512)
  .superRefine((t, ctx) => {
    const problem = templateProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', message: `template ${problem}` });
  });

/**
 * Every value at an argument path becomes one target of the call (`to`, `message.cc`, `members`:
 * a string, a list, or a comma-separated list of addresses), judged by the detector like the
 * resource: the SDK's target mapping (sdk/targets.ts), as data.
 */
export const TargetRule = z.strictObject({
  kind: TargetKind,
  /** Argument path: keys and indexes separated by '.'. */
  from: z
    .string()
    .min(1)
    .max(256)
    .refine(
      (p) => p.split('.').every((s) => PATH_SEGMENT.test(s)),
      "must be an argument path (keys and indexes separated by '.')",
    ),
  form: RecipientForm.optional(),
  /** Default: the path's last segment (`cc`, `members`). */
  role: z.string().min(1).max(64).optional(),
});
export type TargetRule = z.infer<typeof TargetRule>;

export const ToolRule = z.strictObject({
  /** Glob(s) over the tool's name as the upstream server lists it (`*` within a `/` segment). */
  match: z.union([Glob, z.array(Glob).min(1).max(64)]),
  operation: Operation,
  resource: Template.optional(),
  /** Egress destination (URL or host) for tools that send data out. */
  destination: Template.optional(),
  /** Further things the call touches (recipients, accounts, more resources), from its arguments. */
  targets: z.array(TargetRule).max(32).default([]),
  data_classes: z.array(DataClass).max(32).default([]),
});
export type ToolRule = z.infer<typeof ToolRule>;

export const MappingFile = z.strictObject({
  version: z.literal(1),
  /** For tools no rule matches. `execute` is the broadest class that claims nothing more. */
  default: z
    .strictObject({ operation: Operation.default('execute'), data_classes: z.array(DataClass).default([]) })
    .default({ operation: 'execute', data_classes: [] }),
  tools: z.array(ToolRule).max(1024).default([]),
});
export type MappingFile = z.infer<typeof MappingFile>;
export type MappingFileInput = z.input<typeof MappingFile>;

/** What the mapping says about one call. `rule` is the matching rule's index, or undefined. */
export interface MappedCall {
  operation: Operation;
  resource?: string;
  destination?: string;
  data_classes: string[];
  /** Target mappings to apply to the arguments (sdk/targets.ts extractTargets); empty for most tools. */
  targets: TargetRule[];
  rule: number | undefined;
}

/** The value at a dot path inside the arguments, as text; objects and missing paths give undefined. */
export function argumentAt(args: Record<string, unknown> | undefined, path: string): string | undefined {
  let v: unknown = args;
  for (const seg of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

/**
 * Fill a template from the arguments. A placeholder whose path is missing (or not a scalar)
 * leaves the whole field unset: a half-filled resource would name something the call did not touch.
 */
export function fillTemplate(
  template: string,
  args: Record<string, unknown> | undefined,
): string | undefined {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_, path: string) => {
    const v = argumentAt(args, path);
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

export type Mapper = (tool: string, args: Record<string, unknown> | undefined) => MappedCall;

/** Compile a validated mapping once; the returned function is pure. */
export function compileMapping(file: MappingFile): Mapper {
  const rules = file.tools.map((r) => ({
    rule: r,
    matches: compileGlobList(Array.isArray(r.match) ? r.match : [r.match]) as Matcher,
  }));
  return (tool, args) => {
    const i = rules.findIndex((r) => r.matches(tool));
    if (i < 0) {
      return {
        operation: file.default.operation,
        data_classes: file.default.data_classes,
        targets: [],
        rule: undefined,
      };
    }
    const r = rules[i]!.rule;
    const out: MappedCall = {
      operation: r.operation,
      data_classes: r.data_classes,
      targets: r.targets,
      rule: i,
    };
    const resource = r.resource === undefined ? undefined : fillTemplate(r.resource, args);
    const destination = r.destination === undefined ? undefined : fillTemplate(r.destination, args);
    if (resource !== undefined) out.resource = resource;
    if (destination !== undefined) out.destination = destination;
    return out;
  };
}

/** A server without a mapping file: every tool is unmapped and gets `execute`. */
export const EMPTY_MAPPING: MappingFile = MappingFile.parse({ version: 1 });

/** Read and validate a mapping file (YAML or JSON); AT_ERR_CONFIG_INVALID names the file and field. */
export function loadMappingFile(path: string): MappingFile {
  return parseDocument(MappingFile, readDocument(path), path);
}
