import { Action, MAX_ARGUMENTS_BYTES, MAX_OUTPUT_EXCERPT_CHARS } from '../../../schemas/events/action.js';
import { SCHEMA_VERSION } from '../../../schemas/index.js';
import { type Adjustment, fitText, withAdjustments } from '../../../sdk/adjust.js';
import { extractTargets } from '../../../sdk/targets.js';
import type { Mapper } from '../../platform/tool-mapping.js';
import { AT, EXECUTE_TOOL, GENAI, INVOKE_AGENT, RESOURCE } from './attributes.js';
import { type AttrValue, type OtlpSpan, STATUS_ERROR } from './model.js';
import { DECLARATION_SEQ, type TaskSeqs } from './task-seqs.js';

// Spans → AgentTrail events (unvalidated: the caller validates each with the one event schema,
// so every field error reads as it does on /v1/events). Pure apart from the seq counter.
//
//   execute_tool span                       → an `action` (tool, arguments, result excerpt, outcome, latency)
//   span with agenttrail.task.intent        → `task.declared` (seq 1)
//   … and when it is an invoke_agent span   → also `task.ended` (its end is the agent's run ending)
//   any other span                          → ignored (counted: HTTP, LLM and framework spans are not actions)
//
// A span that should become an event but cannot is REJECTED with a reason (counted and reported
// in the OTLP partial_success), never dropped in silence.

export type RejectReason =
  | 'no_tool_name'
  | 'no_agent'
  | 'no_task'
  | 'no_start_time'
  | 'bad_attribute'
  | 'invalid_event';

export interface Rejection {
  spanId: string;
  reason: RejectReason;
  message: string;
}

export interface Converted {
  /** Events in the order they go to Kafka: per task, declaration, actions by start, end. */
  events: Array<Record<string, unknown>>;
  /** Which span each event came from (same index as `events`). */
  spanIds: string[];
  rejected: Rejection[];
  ignored: number;
}

export interface ConvertOptions {
  tenant: string;
  seqs: TaskSeqs;
  /** Tool-name globs → operation class and argument paths → resource/destination. */
  mapper: Mapper;
}

class Refused extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

function text(v: AttrValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A span attribute, else the same attribute on its resource (task and agent may be set per process). */
function attr(s: OtlpSpan, key: string): AttrValue | undefined {
  return s.attributes[key] ?? s.resource[key];
}

function jsonAttr(s: OtlpSpan, key: string): unknown {
  const v = attr(s, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch (err) {
    throw new Refused('bad_attribute', `${key} is not JSON: ${(err as Error).message}`);
  }
}

const isoMs = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

function envelope(s: OtlpSpan, o: ConvertOptions, taskId: string) {
  const agentId =
    text(s.attributes[GENAI.agentId]) ??
    text(s.attributes[GENAI.agentName]) ??
    text(s.resource[RESOURCE.serviceName]);
  if (agentId === undefined) {
    throw new Refused(
      'no_agent',
      `no ${GENAI.agentId}, ${GENAI.agentName} or resource ${RESOURCE.serviceName}`,
    );
  }
  if (s.startNs === 0n) throw new Refused('no_start_time', 'the span has no start time');
  const agent: Record<string, unknown> = { id: agentId };
  const instance = text(s.resource[RESOURCE.serviceInstance]);
  const workload = text(attr(s, AT.workloadIdentity));
  const model = text(s.attributes[GENAI.model]);
  if (instance !== undefined) agent.instance = instance;
  if (workload !== undefined) agent.workload_identity = workload;
  if (model !== undefined) agent.model = model;
  const out: Record<string, unknown> = {
    schema_version: SCHEMA_VERSION,
    occurred_at: isoMs(s.startNs),
    tenant: o.tenant,
    agent,
    task_id: taskId,
  };
  const parent = text(attr(s, AT.parentTaskId));
  if (parent !== undefined) out.parent_task_id = parent;
  if (/^[0-9a-f]{32}$/.test(s.traceId)) out.trace_id = s.traceId;
  if (/^[0-9a-f]{16}$/.test(s.spanId)) out.span_id = s.spanId;
  return out;
}

function taskIdOf(s: OtlpSpan): string {
  // One trace is one task unless the instrumentation names the task.
  const named = text(attr(s, AT.taskId));
  if (named !== undefined) return named;
  // Without a trace id every such span would fall into one task "otel:": refused instead.
  if (!/^[0-9a-f]{32}$/.test(s.traceId) || /^0+$/.test(s.traceId)) {
    throw new Refused('no_task', `no ${AT.taskId} and no valid trace id to take the task from`);
  }
  return `otel:${s.traceId}`;
}

function explicitSeq(s: OtlpSpan): unknown {
  return s.attributes[AT.seq] ?? undefined; // null (an empty AnyValue) counts as absent
}

/** The schema's own limit on `data.error`, so a cut here can never disagree with validation. */
const MAX_ERROR_CHARS = Action.shape.error.unwrap().maxLength ?? 512;

function argumentsOf(v: AttrValue | undefined): { value?: Record<string, unknown>; adjustment?: Adjustment } {
  if (v === undefined || v === null || v === '') return {};
  let parsed: unknown = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = v; // arguments that are not JSON are kept as the text the model produced
    }
  }
  const args =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  const bytes = Buffer.byteLength(JSON.stringify(args));
  if (bytes <= MAX_ARGUMENTS_BYTES) return { value: args };
  // As the SDK does with oversized arguments: a marker, and the adjustment that says so.
  return {
    value: { truncated: true, bytes },
    adjustment: { path: 'data.arguments', reason: 'truncated', original_bytes: bytes },
  };
}

function action(s: OtlpSpan, o: ConvertOptions): Record<string, unknown> {
  const tool = text(s.attributes[GENAI.toolName]);
  if (tool === undefined)
    throw new Refused('no_tool_name', `an ${EXECUTE_TOOL} span without ${GENAI.toolName}`);
  const taskId = taskIdOf(s);
  const eventId = `otel:${s.traceId}:${s.spanId}`;
  const env = envelope(s, o, taskId);
  const adjustments: Adjustment[] = [];
  const args = argumentsOf(s.attributes[GENAI.toolArguments]);
  if (args.adjustment) adjustments.push(args.adjustment);
  const mapped = o.mapper(tool, args.value);
  const data: Record<string, unknown> = {
    tool,
    operation: text(s.attributes[AT.operation]) ?? mapped.operation,
    outcome: text(s.attributes[AT.outcome]) ?? (s.status.code === STATUS_ERROR ? 'error' : 'ok'),
  };
  const resource = text(s.attributes[AT.resource]) ?? mapped.resource;
  const destination = text(s.attributes[AT.destination]) ?? mapped.destination;
  if (resource !== undefined) data.resource = resource;
  if (destination !== undefined) data.destination = destination;
  const targets = jsonAttr(s, AT.targets);
  if (targets !== undefined) data.targets = targets;
  else if (mapped.targets.length > 0) {
    const x = extractTargets(mapped.targets, [args.value ?? {}], { resource, destination });
    if (x.targets.length > 0) data.targets = x.targets;
    data.resource ??= x.targets.find((t) => t.kind === 'resource')?.value;
    data.destination ??= x.targets.find((t) => t.kind === 'destination')?.value;
    adjustments.push(...x.adjustments);
  }
  const classes = s.attributes[AT.dataClasses];
  data.data_classes =
    classes === undefined ? mapped.data_classes : Array.isArray(classes) ? classes : [classes];
  const credential = text(s.attributes[AT.credentialId]);
  const approval = text(s.attributes[AT.approvalId]);
  if (credential !== undefined) data.credential_id = credential;
  if (approval !== undefined) data.approval_id = approval;
  if (args.value !== undefined) data.arguments = args.value;
  const result = text(s.attributes[GENAI.toolResult]);
  if (result !== undefined) {
    const fit = fitText('data.output.excerpt', result, MAX_OUTPUT_EXCERPT_CHARS);
    if (fit.adjustment) adjustments.push(fit.adjustment);
    data.output = { excerpt: fit.value, bytes: Buffer.byteLength(result) };
  }
  if (data.outcome === 'error') {
    const why = text(s.status.message) ?? text(s.attributes[GENAI.errorType]);
    if (why !== undefined) {
      const fit = fitText('data.error', why, MAX_ERROR_CHARS);
      if (fit.adjustment) adjustments.push(fit.adjustment);
      data.error = fit.value;
    }
  }
  if (s.endNs >= s.startNs && s.endNs > 0n) data.latency_ms = Number(s.endNs - s.startNs) / 1e6;
  const seq = explicitSeq(s) ?? o.seqs.seqFor(o.tenant, taskId, eventId);
  return { event_id: eventId, ...env, seq, type: 'action', data: withAdjustments(data, adjustments) };
}

function principal(v: string | undefined, agentId: string): Record<string, unknown> {
  if (v === undefined) return { kind: 'service', id: agentId };
  const colon = v.indexOf(':');
  if (colon < 0)
    throw new Refused(
      'bad_attribute',
      `${AT.declaredBy} must be kind:id (human:alice, service:orchestrator)`,
    );
  return { kind: v.slice(0, colon), id: v.slice(colon + 1) };
}

interface Declaration {
  declared: Record<string, unknown>;
  /** The task's end, numbered when called: after the request's actions of the task. */
  ended?: () => Record<string, unknown>;
}

function declaration(s: OtlpSpan, o: ConvertOptions): Declaration {
  const taskId = taskIdOf(s);
  const env = envelope(s, o, taskId);
  const data: Record<string, unknown> = {
    intent: text(attr(s, AT.intent)),
    declared_by: principal(text(attr(s, AT.declaredBy)), (env.agent as { id: string }).id),
    scope: jsonAttr(s, AT.scope),
  };
  if (data.scope === undefined) throw new Refused('bad_attribute', `${AT.intent} without ${AT.scope}`);
  const expires = text(attr(s, AT.expiresAt));
  if (expires !== undefined) data.expires_at = expires;
  const base = `otel:${s.traceId}:${s.spanId}`;
  const declared = {
    event_id: `${base}:declared`,
    ...env,
    seq: explicitSeq(s) ?? DECLARATION_SEQ,
    type: 'task.declared',
    data,
  };
  if (s.attributes[GENAI.operation] !== INVOKE_AGENT || s.endNs === 0n) return { declared };
  const eventId = `${base}:ended`;
  return {
    declared,
    ended: () => ({
      event_id: eventId,
      ...env,
      occurred_at: isoMs(s.endNs),
      seq: o.seqs.seqFor(o.tenant, taskId, eventId),
      type: 'task.ended',
      data: { outcome: s.status.code === STATUS_ERROR ? 'failed' : 'completed' },
    }),
  };
}

type Kind = 'declare' | 'action' | 'ignore';

function kindOf(s: OtlpSpan): Kind {
  if (s.attributes[GENAI.operation] === EXECUTE_TOOL) return 'action';
  if (s.attributes[AT.intent] !== undefined) return 'declare';
  return 'ignore';
}

const byStart = (a: OtlpSpan, b: OtlpSpan) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0);

export function spansToEvents(spans: readonly OtlpSpan[], o: ConvertOptions): Converted {
  const out: Converted = { events: [], spanIds: [], rejected: [], ignored: 0 };
  const declares: OtlpSpan[] = [];
  const actions: OtlpSpan[] = [];
  for (const s of spans) {
    const k = kindOf(s);
    if (k === 'declare') declares.push(s);
    else if (k === 'action') actions.push(s);
    else out.ignored++;
  }
  const ends: Array<{ ended: () => Record<string, unknown>; spanId: string }> = [];
  const push = (event: Record<string, unknown>, spanId: string) => {
    out.events.push(event);
    out.spanIds.push(spanId);
  };
  const refused = (s: OtlpSpan, err: unknown) => {
    if (!(err instanceof Refused)) throw err;
    out.rejected.push({ spanId: s.spanId, reason: err.reason, message: err.message });
  };
  // Declarations first and ends last, actions between in start order: within one request the
  // receiver numbers a task's events in the order they happened (task-seqs.ts).
  for (const s of declares) {
    try {
      const d = declaration(s, o);
      push(d.declared, s.spanId);
      if (d.ended) ends.push({ ended: d.ended, spanId: s.spanId });
    } catch (err) {
      refused(s, err);
    }
  }
  for (const s of actions.sort(byStart)) {
    try {
      push(action(s, o), s.spanId);
    } catch (err) {
      refused(s, err);
    }
  }
  for (const e of ends) push(e.ended(), e.spanId);
  return out;
}
