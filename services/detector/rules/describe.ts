import type { ActionData } from '../../../schemas/index.js';

// One wording for an action in every explanation (built-in `{action}`, sequence `{step.action}`),
// naming only what the action has: a send without a resource never reads "on '?'".

type Described = Pick<ActionData, 'tool' | 'operation' | 'resource' | 'destination'>;

export function describeAction(a: Described): string {
  let s = `${a.tool}/${a.operation}`;
  if (a.resource !== undefined) s += ` on '${a.resource}'`;
  if (a.destination !== undefined) s += ` to '${a.destination}'`;
  return s;
}

/** What happened to an action, as a verb phrase that is true for its outcome. */
export const OUTCOME_VERB: Readonly<Record<ActionData['outcome'], string>> = {
  ok: 'succeeded',
  error: 'failed',
  denied: 'was refused',
};
