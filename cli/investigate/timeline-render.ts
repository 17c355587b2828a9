import type { Timeline } from '../../services/api/timeline/assemble.js';
import type { ChainVerdict } from '../../services/api/timeline/chain.js';
import { describeView, scopeLines } from './describe.js';
import { clean } from './table.js';

// The task timeline for a terminal, from the API's answer (GET /v1/tasks/{task}): who declared
// it with what intent and scope, scope changes and approvals, credentials, every event in seq
// order with where it left scope, delegation, alerts, and the chain verdict. `agenttrail
// timeline` and the demo both print this, so the two cannot drift. Lines out, no I/O.

const time = (iso: unknown) => (typeof iso === 'string' ? iso.slice(11, 23) : '');
const seqs = (refs: ReadonlyArray<{ seq: number }>) => refs.map((r) => `#${r.seq}`).join(' ');

export const CHAIN_LABEL: Record<string, string> = {
  verified: 'VERIFIED',
  incomplete: 'INCOMPLETE',
  tampered: 'TAMPERED',
  incomplete_and_tampered: 'INCOMPLETE AND TAMPERED',
  empty: 'EMPTY',
};

function header(t: Timeline): string[] {
  const out = [`TIMELINE  task ${t.task_id}  (tenant ${t.tenant})`];
  if (t.agent) {
    const wid = t.agent.workload_identity ? ` (${t.agent.workload_identity})` : '';
    out.push(`  agent      ${t.agent.id}${wid}`);
  }
  const d = t.declared;
  if (d) {
    out.push(`  declared   by ${d.declared_by.kind} ${d.declared_by.id} at ${d.at}`);
    out.push(`  intent     "${d.intent}"`);
    for (const line of scopeLines(d.scope)) out.push(`  ${line}`);
  } else {
    out.push('  declared   NEVER: no task.declared event is stored for this task');
  }
  for (const c of t.scope_changes) {
    const approval = c.approved
      ? `approved by ${c.approval?.approver} (${c.approval_id})`
      : c.approval_id
        ? `NOT APPROVED (${c.approval_id} not granted before it)`
        : 'NOT APPROVED';
    out.push(`  scope      changed at #${c.seq} by ${c.changed_by.id}: ${c.reason}; ${approval}`);
  }
  if (t.risk.unavailable) out.push(`  risk       ${t.risk.unavailable}`);
  if (t.risk.signals.length > 0)
    out.push(
      `  risk       score ${t.risk.score} from ${t.risk.signals.length} baseline signal(s), marked below`,
    );
  return out;
}

function credentialLines(t: Timeline): string[] {
  if (t.credentials.length === 0) return ['  credentials none'];
  return t.credentials.map((c) => {
    const parts = [
      c.issued ? `${c.credential_id} (${c.issued.kind}) issued #${c.issued.seq}` : c.credential_id,
    ];
    if (c.used_by.length > 0) parts.push(`used ${seqs(c.used_by)}`);
    if (c.revoked) parts.push(`revoked #${c.revoked.seq}`);
    if (c.never_issued_here) parts.push('NEVER ISSUED IN THIS TASK');
    if (c.used_after_revocation) parts.push('USED AFTER REVOCATION');
    return `  credential ${parts.join(', ')}`;
  });
}

function approvalLines(t: Timeline): string[] {
  if (t.approvals.length === 0) return ['  approvals  none'];
  return t.approvals.map((a) => {
    const who = a.granted
      ? ` by ${a.granted.approver} at ${a.granted.at}`
      : a.denied
        ? ` by ${a.denied.approver}`
        : '';
    const target = a.granted?.target ?? a.requested?.target;
    const what = target
      ? ` for ${[target.tool, target.operation, target.resource].filter(Boolean).join(' ')}`
      : '';
    const ctx = a.granted?.context ?? a.requested?.context;
    const used = [
      ...seqs(a.used_by).split(' ').filter(Boolean),
      ...a.used_by_scope_change.map(() => 'a scope change'),
    ];
    return `  approval   ${a.approval_id} ${a.decision}${who}${what}${ctx ? ` ("${ctx}")` : ''}${used.length ? `, used by ${used.join(' ')}` : ''}`;
  });
}

function eventLines(t: Timeline): string[] {
  const out: string[] = [];
  for (const e of t.events) {
    const mark = 'mark' in e ? e.mark : undefined;
    // ✗ where the action left scope; • where it is only evidence of an alert (e.g. the
    // in-scope read whose output held the token a later action used).
    const left = mark?.left_scope ?? [];
    const evidenceOf = mark?.evidence_of ?? [];
    const flag = left.length > 0 || (mark?.rules.length ?? 0) > 0 ? '✗' : evidenceOf.length > 0 ? '•' : ' ';
    const at = time((e.event as Record<string, unknown>).occurred_at);
    out.push(`  ${flag} #${String(e.seq).padEnd(3)} ${at}  ${e.type.padEnd(17)} ${describeView(e.event)}`);
    const rules = mark?.rules.length ? `  [${mark.rules.join(', ')}]` : '';
    if (left.length > 0)
      out.push(
        `          ↳ LEFT SCOPE here: ${left.map((l) => `${l.element} (${l.detail})`).join('; ')}${rules}`,
      );
    else if (rules) out.push(`          ↳ broke${rules}`);
    if (evidenceOf.length > 0) out.push(`          ↳ evidence of  [${evidenceOf.join(', ')}]`);
    // Context, not a finding: the baselines' first uses and outliers observed on the action.
    for (const x of t.risk.signals.filter((x) => x.event_id === e.event_id))
      out.push(`          ↳ risk signal  ${x.rule_id} +${x.score}: ${x.explanation}`);
  }
  const s = t.summary;
  if (s.events_shown < s.events)
    out.push(`  … ${s.events - s.events_shown} more events not shown (agenttrail export task ${t.task_id})`);
  return out;
}

function delegationLines(t: Timeline): string[] {
  const out: string[] = [];
  const verdict = (x: { subset: boolean | null; widenings: Array<{ element: string; detail: string }> }) =>
    x.subset === null
      ? 'scope unknown'
      : x.subset
        ? 'scope within'
        : `WIDER: ${x.widenings.map((w) => `${w.element} (${w.detail})`).join('; ')}`;
  const p = t.delegation.parent;
  if (p) out.push(`  parent     ${p.task_id}: this task's ${verdict(p)} the parent's`);
  for (const c of t.delegation.children)
    out.push(
      `  child      ${c.task_id}${c.agent_id ? ` (agent ${c.agent_id})` : ''}: ${verdict(c)} this task's`,
    );
  return out;
}

function alertLines(t: Timeline): string[] {
  const seqOf = new Map(t.events.map((e) => [e.event_id, e.seq]));
  const out = [`  alerts (${t.alerts.length}):`];
  for (const a of t.alerts) {
    const ev = a.evidence.map((id) => (seqOf.has(id) ? `#${seqOf.get(id)}` : id)).join(' ');
    out.push(`    ${a.rule_id} ${a.severity.padEnd(8)} ${a.status.padEnd(12)} ${a.title}  [evidence ${ev}]`);
    for (const line of a.explanation.split('\n')) out.push(`      ${line}`);
  }
  return out;
}

/** The record line and the verdict, as `verify` prints them too. */
export function chainLines(v: ChainVerdict, ended: boolean): string[] {
  const span = v.first_seq === null ? 'none' : `seq ${v.first_seq}..${v.last_seq}`;
  const gaps = v.gaps.length
    ? `, GAPS at ${v.gaps.map((g) => (g.from === g.to ? g.from : `${g.from}-${g.to}`)).join(', ')}`
    : ', gap-free';
  return [
    `  record     ${v.events} events stored, ${span}${v.events ? gaps : ''}${v.unreadable ? `, ${v.unreadable} unreadable rows` : ''}, task ${ended ? 'ended' : 'still open'}`,
    `  integrity  ${CHAIN_LABEL[v.status] ?? v.status}: ${v.sentence}`,
  ];
}

export function renderTimeline(t: Timeline): string[] {
  const lines = [
    ...header(t),
    ...credentialLines(t),
    ...approvalLines(t),
    ...delegationLines(t),
    '',
    ...eventLines(t),
    '',
    ...alertLines(t),
    '',
    ...chainLines(t.chain, t.ended !== null),
  ];
  return lines.map(clean);
}
