import { performance } from 'node:perf_hooks';
import { MAX_ARGUMENTS_BYTES, MAX_OUTPUT_EXCERPT_CHARS, type Operation } from '../schemas/index.js';
import type { Recorded } from './task.js';

type Pick<A extends unknown[], T> = T | ((...args: A) => T);

export interface WrapToolOptions<A extends unknown[], R> {
  operation: Operation;
  resource?: Pick<A, string | undefined>;
  /** Egress destination (host or URL) for tools that send data out. */
  destination?: Pick<A, string | undefined>;
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
  action(data: Record<string, unknown> & { tool: string }): Promise<Recorded>;
}

const resolve = <A extends unknown[], T>(v: Pick<A, T> | undefined, args: A): T | undefined =>
  typeof v === 'function' ? (v as (...a: A) => T)(...args) : v;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

/** JSON-safe, bounded copy of the arguments: an audit record must never fail on its own size. */
function boundedArguments(value: Record<string, unknown>): Record<string, unknown> {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return { unserializable: true };
  }
  if (json === undefined) return {};
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_ARGUMENTS_BYTES) return { truncated: true, bytes };
  return JSON.parse(json) as Record<string, unknown>;
}

/**
 * Cut an excerpt to `max` characters. When cut, the trailing partial word is dropped too: a
 * token cut in half no longer matches its redaction pattern, and half a secret is still a leak.
 */
export function boundedExcerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1).replace(/\S+$/, '');
  return `${cut}…`;
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
 * function. The tool's own error is rethrown unchanged. If recording fails after a successful
 * call, the recording error is thrown: an unaudited action is surfaced to the agent (fail
 * closed) rather than passed off as recorded.
 */
export function wrapTool<A extends unknown[], R>(
  task: Recorder,
  name: string,
  opts: WrapToolOptions<A, R>,
  fn: (...args: A) => R | Promise<R>,
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
    if (opts.arguments !== false) {
      const raw = opts.arguments ? opts.arguments(...args) : isPlainObject(args[0]) ? args[0] : { args };
      data.arguments = boundedArguments(raw);
    }
    const started = performance.now();
    let result: R;
    try {
      result = await fn(...args);
    } catch (err) {
      data.latency_ms = performance.now() - started;
      data.outcome = opts.isDenied?.(err) ? 'denied' : 'error';
      data.error = String((err as Error)?.message ?? err).slice(0, 512);
      await task.action(data).catch(() => undefined);
      throw err;
    }
    data.latency_ms = performance.now() - started;
    data.outcome = 'ok';
    if (opts.excerpt !== false) {
      const text = opts.excerpt ? opts.excerpt(result) : defaultExcerpt(result);
      data.output = { excerpt: boundedExcerpt(text, excerptChars) };
    }
    await task.action(data);
    return result;
  };
}
