import type { AgentEvent, ScopeInput, Sighting } from '../schemas/index.js';
import { fp, TaskStream } from './builder.js';
import { OPS_SCOPE } from './fixtures.js';

// Turns a rule-test case (rules/tests/<rule-id>.yaml) into events. A case is a list of steps,
// each one key naming the event kind, plus delivery tweaks (reorder, duplicate, tamper).

/** A sighting: in the output excerpt, in the arguments, or at another field of `data` (`targets.1.value`). */
type Sight = { kind?: string; in?: string; of: string };

export interface CaseStep {
  task?: string;
  dt?: number;
  received_delay_ms?: number;
  declared?: {
    scope?: ScopeInput;
    expires_in_ms?: number;
    intent?: string;
    by?: string;
    /** Entities the gateway would find in the declaration (default field: `intent`). */
    entities?: Sight[];
  } | null;
  action?: Record<string, unknown> & { secrets?: Sight[]; entities?: Sight[] };
  credential?: { id: string; expires_in_ms?: number; for_task?: string };
  revoke?: { id: string };
  grant?: {
    id: string;
    approver: string;
    target: Record<string, string>;
    expires_in_ms?: number;
    max_uses?: number;
  };
  request?: { id: string; target: Record<string, string> };
  deny?: { id: string; approver: string };
  scope_changed?: { scope?: ScopeInput; approval_id?: string; intent?: string; reason?: string };
  delegate?: { child: string; scope?: ScopeInput };
  ended?: Record<string, never> | null;
  wait?: number;
  /** Repeat this step n times. */
  repeat?: number;
}

export interface RuleCase {
  name: string;
  tasks?: Record<string, { parent?: string; agent?: string; workload_identity?: string }>;
  steps: CaseStep[];
  /** 1-based indices into the built events, in delivery order (repeats = redelivery). */
  deliver?: number[];
  /** Change a built event after hashing (tampering in transit), by 1-based index. */
  tamper?: { index: number; path: string; value: unknown }[];
  /** Add an event for an existing seq with different content (a conflicting duplicate). */
  conflict?: { index: number; path: string; value: unknown };
  expect?: string[];
  expect_not?: string[];
  /** No alert of any rule. */
  expect_none?: boolean;
  /** Rule id → phrases every alert of that rule in this case must contain (wording is tested). */
  explain?: Record<string, string[]>;
  /** Rule id → phrases no alert of that rule in this case may contain (claims false for it). */
  explain_not?: Record<string, string[]>;
}

function sightingPath(where: string): string {
  if (where === 'output') return 'data.output.excerpt';
  if (where === 'arguments') return 'data.arguments.value';
  return `data.${where}`;
}

function sightings(list: Sight[] | undefined, defaultIn: string): Sighting[] | undefined {
  if (!list) return undefined;
  return list.map((s) => ({
    kind: s.kind ?? 'token',
    path: sightingPath(s.in ?? defaultIn),
    fp: fp(s.of),
  }));
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>;
  cur[parts[parts.length - 1]!] = value;
}

export function buildCaseEvents(c: RuleCase): AgentEvent[] {
  const streams = new Map<string, TaskStream>();
  const built: AgentEvent[] = [];
  let clock: number | undefined;
  const stream = (name: string) => {
    let s = streams.get(name);
    if (!s) {
      const t = c.tasks?.[name] ?? {};
      s = new TaskStream({
        taskId: name,
        ...(t.parent ? { parentTaskId: t.parent } : {}),
        ...(t.agent ? { agentId: t.agent } : {}),
        ...(t.workload_identity ? { workloadIdentity: t.workload_identity } : {}),
        ...(clock !== undefined ? { startMs: clock } : {}),
      });
      streams.set(name, s);
    }
    return s;
  };
  const expanded = c.steps.flatMap((st) => Array.from({ length: st.repeat ?? 1 }, () => st));
  for (const step of expanded) {
    const s = stream(step.task ?? 't1');
    const before = s.events().length;
    const extra = { ...(step.dt !== undefined ? { dtMs: step.dt } : {}) } as {
      dtMs?: number;
      receivedAtMs?: number;
    };
    if (step.wait !== undefined) {
      s.wait(step.wait);
      continue;
    }
    const received = (ms: number) => {
      if (step.received_delay_ms !== undefined) extra.receivedAtMs = ms + step.received_delay_ms;
    };
    received(s.timeMs + (before > 0 ? (step.dt ?? 1000) : 0));
    if (step.declared !== undefined) {
      const d = step.declared ?? {};
      s.declared(
        d.scope ?? OPS_SCOPE,
        {
          ...(d.intent ? { intent: d.intent } : {}),
          ...(d.by ? { by: d.by } : {}),
          ...(d.expires_in_ms !== undefined ? { expiresAt: s.iso(d.expires_in_ms) } : {}),
        },
        d.entities ? { ...extra, entities: sightings(d.entities, 'intent') } : extra,
      );
    } else if (step.action) {
      const { secrets, entities, ...data } = step.action;
      const sec = [...(sightings(secrets, 'output') ?? [])];
      const ent = [...(sightings(entities, 'output') ?? [])];
      s.action(data as never, {
        ...extra,
        ...(sec.length ? { secrets: sec } : {}),
        ...(ent.length ? { entities: ent } : {}),
      });
    } else if (step.credential) {
      s.credential(
        step.credential.id,
        step.credential.expires_in_ms ?? 3_600_000,
        step.credential.for_task ? { forTask: step.credential.for_task } : {},
        extra,
      );
    } else if (step.revoke) {
      s.revoke(step.revoke.id, extra);
    } else if (step.grant) {
      const g = step.grant;
      s.grant(
        g.id,
        g.approver,
        g.target,
        {
          ...(g.expires_in_ms !== undefined ? { expiresInMs: g.expires_in_ms } : {}),
          ...(g.max_uses !== undefined ? { maxUses: g.max_uses } : {}),
        },
        extra,
      );
    } else if (step.request) {
      s.event(
        'approval.requested',
        { approval_id: step.request.id, target: step.request.target } as never,
        extra,
      );
    } else if (step.deny) {
      s.deny(step.deny.id, step.deny.approver, extra);
    } else if (step.scope_changed) {
      const sc = step.scope_changed;
      s.scopeChanged(
        sc.scope ?? OPS_SCOPE,
        {
          ...(sc.approval_id ? { approvalId: sc.approval_id } : {}),
          ...(sc.intent ? { intent: sc.intent } : {}),
          ...(sc.reason ? { reason: sc.reason } : {}),
        },
        extra,
      );
    } else if (step.delegate) {
      s.delegate(step.delegate.child, step.delegate.scope ?? OPS_SCOPE, extra);
    } else if (step.ended !== undefined) {
      s.ended('completed', extra);
    }
    const evs = s.events();
    if (evs.length > before) {
      built.push(evs[evs.length - 1]!);
      clock = s.timeMs;
    }
  }
  let out: AgentEvent[] = built.map((e) => structuredClone(e));
  for (const t of c.tamper ?? [])
    setPath(out[t.index - 1] as unknown as Record<string, unknown>, t.path, t.value);
  if (c.conflict) {
    const copy = structuredClone(out[c.conflict.index - 1]!);
    copy.event_id = `${copy.event_id}.conflict`;
    setPath(copy as unknown as Record<string, unknown>, c.conflict.path, c.conflict.value);
    out.push(copy);
  }
  if (c.deliver) out = c.deliver.map((i) => structuredClone(out[i - 1]!));
  return out;
}
