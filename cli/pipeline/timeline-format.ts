import type { AgentEvent, Scope, ScopeEntry } from '../../schemas/index.js';
import type { TaskTimeline } from './timeline.js';

// Plain-text rendering of a TaskTimeline for a terminal: who declared the task with what intent
// and scope, credentials and approvals, every event in seq order, where it left scope, and the
// integrity verdict. Data only in, lines out: no I/O here.

const entry = (e: ScopeEntry): string =>
  [e.tools?.join(',') ?? '*', e.operations?.join(',') ?? '*', e.resources?.join(',') ?? '*'].join(' ');

function scopeLines(s: Scope): string[] {
  const out = [`allow      ${s.allow.map(entry).join('; ') || '(nothing)'}`];
  if (s.deny.length > 0) out.push(`deny       ${s.deny.map(entry).join('; ')}`);
  out.push(`egress     ${s.egress.join(', ') || '(none)'}`);
  out.push(`data       ${s.data_classes.join(', ') || '(unclassified only)'}`);
  if (s.approvals.required_for.length > 0) {
    out.push(
      `approval   needed for ${s.approvals.required_for.map(entry).join('; ')}, from ${s.approvals.approvers.join(', ')}`,
    );
  }
  if (s.limits.max_actions !== undefined) out.push(`limits     at most ${s.limits.max_actions} actions`);
  return out;
}

const time = (iso: string) => iso.slice(11, 23);

/** One line describing what the event records. */
function describe(e: AgentEvent): string {
  switch (e.type) {
    case 'action': {
      const d = e.data;
      const target = d.resource ?? d.destination ?? '';
      const parts = [`${d.tool} ${d.operation} ${target}`.trimEnd(), `→ ${d.outcome}`];
      if (d.credential_id) parts.push(`cred ${d.credential_id}`);
      if (d.approval_id) parts.push(`approval ${d.approval_id}`);
      if (d.destination && d.resource) parts.push(`to ${d.destination}`);
      const secrets = (e.secrets ?? []).map((s) => `${s.kind} in ${s.path.replace(/^data\./, '')}`);
      if (secrets.length > 0) parts.push(`[secret redacted: ${secrets.join(', ')}]`);
      return parts.join('  ');
    }
    case 'task.declared':
      return `declared by ${e.data.declared_by.kind} ${e.data.declared_by.id}`;
    case 'credential.issued':
      return `credential ${e.data.credential_id} (${e.data.kind}) issued, expires ${e.data.expires_at}`;
    case 'credential.revoked':
      return `credential ${e.data.credential_id} revoked`;
    case 'approval.requested':
      return `approval ${e.data.approval_id} requested`;
    case 'approval.granted': {
      const t = e.data.target;
      const what = [t.tool, t.operation, t.resource].filter(Boolean).join(' ');
      return `approval ${e.data.approval_id} granted by ${e.data.approver} for ${what || t.action_id}`;
    }
    case 'approval.denied':
      return `approval ${e.data.approval_id} denied by ${e.data.approver}`;
    case 'task.scope_changed':
      return `scope changed by ${e.data.changed_by.id}: ${e.data.reason}`;
    case 'task.delegated':
      return `delegated child task ${e.data.child_task_id}`;
    case 'task.ended':
      return `ended: ${e.data.outcome}`;
  }
}

function integrityLines(t: TaskTimeline): string[] {
  const seqs = t.events.map((e) => e.seq);
  const gapFree = seqs.every((s, i) => s === i + 1);
  const out = [
    `  record     ${t.events.length} events stored, ${gapFree ? `seq 1..${seqs.length} gap-free` : 'seq HAS GAPS'}` +
      `${t.unreadable > 0 ? `, ${t.unreadable} unreadable rows` : ''}, task ${t.ended ? 'ended' : 'still open'}`,
  ];
  if (t.events[0]?.type !== 'task.declared' || t.unreadable > 0) {
    out.push(
      '  integrity  INCOMPLETE: the stored record does not start at the declaration, or rows are unreadable',
    );
  } else if (!t.chain.ok) {
    out.push(
      `  integrity  BROKEN: ${t.chain.problems.map((p) => `${p.kind} at seq ${p.index + 1}`).join(', ')}`,
    );
  } else {
    // A tail cut after the last stored event is only ruled out once the task has ended.
    out.push(
      `  integrity  every hash recomputed (schemas/chain.ts) and linked: ${t.ended ? 'complete' : 'complete so far'} and untampered`,
    );
  }
  return out;
}

export function formatTimeline(t: TaskTimeline): string[] {
  const out: string[] = [];
  const declared = t.events.find((e) => e.type === 'task.declared');
  const first = t.events[0];
  out.push(`TIMELINE  task ${t.taskId}  (tenant ${t.tenant})`);
  if (first) {
    const wid = first.agent.workload_identity ? ` (${first.agent.workload_identity})` : '';
    out.push(`  agent      ${first.agent.id}${wid}`);
  }
  if (declared?.type === 'task.declared') {
    const by = declared.data.declared_by;
    out.push(`  declared   by ${by.kind} ${by.id} at ${declared.occurred_at}`);
    out.push(`  intent     "${declared.data.intent}"`);
    for (const line of scopeLines(declared.data.scope)) out.push(`  ${line}`);
  } else {
    out.push('  declared   NEVER: no task.declared event is stored for this task');
  }
  const creds = t.events.filter((e) => e.type === 'credential.issued');
  const approvals = t.events.filter((e) => e.type.startsWith('approval.'));
  out.push(`  credentials ${creds.length === 0 ? 'none issued' : creds.map(describe).join('; ')}`);
  out.push(`  approvals  ${approvals.length === 0 ? 'none' : approvals.map(describe).join('; ')}`);
  out.push('');
  for (const e of t.events) {
    const triggered = t.triggered.get(e.event_id);
    const mark = triggered ? '✗' : ' ';
    out.push(
      `  ${mark} #${String(e.seq).padEnd(3)} ${time(e.occurred_at)}  ${e.type.padEnd(17)} ${describe(e)}`,
    );
    if (triggered) out.push(`          ↳ LEFT SCOPE here: ${triggered.join(', ')}`);
  }
  out.push('');
  out.push(`  alerts (${t.alerts.length}):`);
  const seqOf = new Map(t.events.map((e) => [e.event_id, e.seq]));
  for (const a of t.alerts) {
    const ev = a.evidence.map((id) => (seqOf.has(id) ? `#${seqOf.get(id)}` : id)).join(' ');
    out.push(`    ${a.rule_id} ${a.severity.padEnd(8)} ${a.title}  [evidence ${ev}]`);
    out.push(`      ${a.explanation}`);
  }
  out.push('');
  out.push(...integrityLines(t));
  return out;
}
