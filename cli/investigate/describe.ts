import type { AgentEvent, Scope, ScopeEntry } from '../../schemas/index.js';
import { validateEvent } from '../../schemas/validate.js';

// One line for what an event records, and a declared scope as lines: shared by the timeline,
// history and alert renderings (data in, text out). Values are cleaned by the caller (table.ts).

const entry = (e: ScopeEntry): string =>
  [e.tools?.join(',') ?? '*', e.operations?.join(',') ?? '*', e.resources?.join(',') ?? '*'].join(' ');

export function scopeLines(s: Scope): string[] {
  const out = [`allow      ${s.allow.map(entry).join('; ') || '(nothing)'}`];
  if (s.deny.length > 0) out.push(`deny       ${s.deny.map(entry).join('; ')}`);
  out.push(`egress     ${s.egress.join(', ') || '(none)'}`);
  out.push(`data       ${s.data_classes.join(', ') || '(unclassified only)'}`);
  if (s.approvals.required_for.length > 0) {
    out.push(
      `approval   needed for ${s.approvals.required_for.map(entry).join('; ')}, from ${s.approvals.approvers.join(', ') || 'anyone'}`,
    );
  }
  if (s.limits.max_actions !== undefined) out.push(`limits     at most ${s.limits.max_actions} actions`);
  return out;
}

export function describe(e: AgentEvent): string {
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

/** A stored event as the API answers it (possibly unreadable or no longer valid). */
export function describeView(e: Record<string, unknown>): string {
  if (e.unreadable === true) return 'UNREADABLE: the stored row does not rebuild into an event';
  const v = validateEvent(e);
  return v.ok ? describe(v.value) : 'does not validate as a v1 event (see --json)';
}
