import { performance } from 'node:perf_hooks';
import {
  Action,
  type Adjustment,
  MAX_ARGUMENTS_BYTES,
  MAX_OUTPUT_EXCERPT_CHARS,
  type Operation,
} from '../schemas/index.js';
import { MAX_JSON_DEPTH } from '../schemas/json-shape.js';
import { fitText, withAdjustments } from './adjust.js';
import { extractTargets, type TargetMapping } from './targets.js';
import type { Recorded } from './task.js';
import { truncateWords } from './text.js';

type Pick<A extends unknown[], T> = T | ((...args: A) => T);

export interface WrapToolOptions<A extends unknown[], R> {
  operation: Operation;
  resource?: Pick<A, string | undefined>;
  /** Egress destination (host or URL) for tools that send data out. */
  destination?: Pick<A, string | undefined>;
  /**
   * Everything the call touches, read from its arguments: e.g. `[{ kind: 'recipient', from: 'to' },
   * { kind: 'recipient', from: 'cc' }, { kind: 'account', from: 'iban' }]`. Each value becomes one
   * target (data.targets) and the detector judges every one. Without `resource` / `destination`,
   * the first resource / destination target fills them.
   */
  targets?: TargetMapping<A>[];
  data_classes?: string[];
  credential_id?: string;
  approval_id?: Pick<A, string | undefined>;
  /**
   * Arguments to record. Default: the first argument when it is a plain object, else
   * `{ args: [...] }`. `false` records none. Values are sent as given; the gateway redacts them.
   */
  arguments?: false | ((...args: A) => Record<string, unknown>);
  /** Output excerpt. Default: the result as a string, or as JSON. `false` records none. */
  excerpt?: false | ((result: R) => string);
  /** Characters of output kept (default 1024, at most 4096). */
  excerptChars?: number;
  /** Classify a thrown error as a refusal (`denied`) rather than a failure (`error`). */
  isDenied?: (err: unknown) => boolean;
}

interface Recorder {
  action(data: Record<string, unknown>): Promise<Recorded>;
}

const resolve = <A extends unknown[], T>(v: Pick<A, T> | undefined, args: A): T | undefined =>
  typeof v === 'function' ? (v as (...a: A) => T)(...args) : v;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

/** Deepest nesting inside `arguments` the schema admits (envelope 1, data 2, arguments 3). */
const MAX_ARGUMENTS_DEPTH = MAX_JSON_DEPTH - 3;

function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return false;
}

/**
 * JSON-safe, bounded copy of the arguments: an audit record must never fail on its own size.
 * Arguments too large or too deeply nested are replaced by `{truncated, bytes}`, and said so.
 */
function boundedArguments(value: Record<string, unknown>): {
  value: Record<string, unknown>;
  adjustment?: Adjustment;
} {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return { value: { unserializable: true } };
  }
  if (json === undefined) return { value: {} };
  const bytes = Buffer.byteLength(json, 'utf8');
  const parsed = bytes > MAX_ARGUMENTS_BYTES ? undefined : (JSON.parse(json) as Record<string, unknown>);
  if (parsed === undefined || depthOver(parsed, MAX_ARGUMENTS_DEPTH)) {
    return {
      value: { truncated: true, bytes },
      adjustment: { path: 'data.arguments', reason: 'truncated', original_bytes: bytes },
    };
  }
  return { value: parsed };
}

/**
 * Cut an excerpt to `max` characters, on a code point boundary. When cut, the trailing partial
 * word is dropped too: a token cut in half no longer matches its redaction pattern, and half a
 * secret is still a leak.
 */
export function boundedExcerpt(text: string, max: number): string {
  return truncateWords(text, { maxLength: max });
}

const maxLength = (s: { maxLength: number | null }) => s.maxLength ?? Number.POSITIVE_INFINITY;
/** The schema's own limits, so a cut here can never disagree with validation. */
const LIMITS = {
  tool: maxLength(Action.shape.tool),
  resource: maxLength(Action.shape.resource.unwrap()),
  destination: maxLength(Action.shape.destination.unwrap()),
  error: maxLength(Action.shape.error.unwrap()),
};

/** Cut the free-form text fields to the schema's limits, listing each cut in `data.adjusted`. */
function fitFields(data: Record<string, unknown>, more: Adjustment[] = []): Record<string, unknown> {
  const adjustments: Adjustment[] = [];
  const out = { ...data };
  for (const [field, max] of Object.entries(LIMITS)) {
    const v = out[field];
    if (typeof v !== 'string') continue;
    const fit = fitText(`data.${field}`, v, max);
    out[field] = fit.value;
    if (fit.adjustment) adjustments.push(fit.adjustment);
  }
  return withAdjustments(out, [...more, ...adjustments]);
}

function defaultExcerpt(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return '';
  try {
    return JSON.stringify(result) ?? '';
  } catch {
    return '[unserializable result]';
  }
}

/**
 * Record operation class, resource, outcome, latency and an output excerpt around the real
 * function. Over-long text is cut to the schema's limits and listed in `data.adjusted`, so the
 * record stays valid. The tool's own error is rethrown unchanged. If recording fails after a
 * successful call, the recording error is thrown: an unaudited action is surfaced to the agent
 * (fail closed) rather than passed off as recorded. After a failed call, whose error is what the
 * caller gets, a recording failure goes to `unrecorded` (onError, the logger, stats()).
 */
export function wrapTool<A extends unknown[], R>(
  task: Recorder,
  name: string,
  opts: WrapToolOptions<A, R>,
  fn: (...args: A) => R | Promise<R>,
  unrecorded: (err: Error) => void = () => undefined,
): (...args: A) => Promise<R> {
  const excerptChars = Math.min(opts.excerptChars ?? 1024, MAX_OUTPUT_EXCERPT_CHARS);
  return async (...args: A): Promise<R> => {
    const data: Record<string, unknown> & { tool: string } = {
      tool: name,
      operation: opts.operation,
      resource: resolve(opts.resource, args),
      destination: resolve(opts.destination, args),
      data_classes: opts.data_classes ?? [],
      credential_id: opts.credential_id,
      approval_id: resolve(opts.approval_id, args),
    };
    const adjustments: Adjustment[] = [];
    if (opts.targets !== undefined && opts.targets.length > 0) {
      const extracted = extractTargets(opts.targets, args, {
        resource: data.resource as string | undefined,
        destination: data.destination as string | undefined,
      });
      if (extracted.targets.length > 0) data.targets = extracted.targets;
      // The schema wants the first of each kind in the 1.0 fields: fill them when not given.
      data.resource ??= extracted.targets.find((t) => t.kind === 'resource')?.value;
      data.destination ??= extracted.targets.find((t) => t.kind === 'destination')?.value;
      adjustments.push(...extracted.adjustments);
    }
    if (opts.arguments !== false) {
      const raw = opts.arguments ? opts.arguments(...args) : isPlainObject(args[0]) ? args[0] : { args };
      const bounded = boundedArguments(raw);
      data.arguments = bounded.value;
      if (bounded.adjustment) adjustments.push(bounded.adjustment);
    }
    const started = performance.now();
    let result: R;
    try {
      result = await fn(...args);
    } catch (err) {
      data.latency_ms = performance.now() - started;
      data.outcome = opts.isDenied?.(err) ? 'denied' : 'error';
      data.error = String((err as Error)?.message ?? err);
      await task.action(fitFields(data, adjustments)).catch((recordErr: unknown) => {
        unrecorded(recordErr instanceof Error ? recordErr : new Error(String(recordErr)));
      });
      throw err;
    }
    data.latency_ms = performance.now() - started;
    data.outcome = 'ok';
    if (opts.excerpt !== false) {
      const text = opts.excerpt ? opts.excerpt(result) : defaultExcerpt(result);
      const fit = fitText('data.output.excerpt', text, excerptChars, boundedExcerpt);
      data.output = { excerpt: fit.value };
      if (fit.adjustment) adjustments.push(fit.adjustment);
    }
    await task.action(fitFields(data, adjustments));
    return result;
  };
}
