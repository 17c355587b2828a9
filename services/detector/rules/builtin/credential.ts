import { getCredential } from '../../state/apply.js';
import type { ActionContext } from './context.js';

// Credential misuse: a credential is good for the task it was issued for, until it expires or is
// revoked. A credential the detector never saw issued was found by the agent (in a repo, a log,
// a tool's output): the seed articles' "discovered token".

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function checkCredential(ctx: ActionContext): void {
  const { event, state, task, atMs, cfg } = ctx;
  const id = event.data.credential_id;
  if (id === undefined) return;
  const cred = getCredential(state, event.tenant, id);
  if (cred === undefined) {
    ctx.emit('AT-CRED-004', { credential: id });
    return;
  }
  if (cred.revokedMs !== undefined) {
    // Revoked on this task's own stream: seq order proves the action came after. Elsewhere we
    // only have clocks to compare, so the skew allowance applies.
    const sameStream = cred.task === task.id;
    if (sameStream || atMs > cred.revokedMs + cfg.clock_skew_ms) {
      ctx.emit('AT-CRED-002', { credential: id, revoked_event: cred.revokedEvent }, [
        cred.revokedEvent!,
        event.event_id,
      ]);
    }
  } else if (atMs > cred.expMs + cfg.clock_skew_ms) {
    ctx.emit(
      'AT-CRED-001',
      {
        credential: id,
        expired_at: iso(cred.expMs),
        skew_s: Math.round(cfg.clock_skew_ms / 1000),
      },
      [cred.issuedEvent, event.event_id],
    );
  }
  if (cred.forTask !== task.id) {
    const note = task.parent === cred.forTask ? ' (the parent task: the secret was handed down)' : '';
    ctx.emit('AT-CRED-003', { credential: id, for_task: `${cred.forTask}${note}` }, [
      cred.issuedEvent,
      event.event_id,
    ]);
  }
}
