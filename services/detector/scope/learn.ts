import type { ActionData, RecipientScope, ScopeEntry, ScopeInput } from '../../../schemas/index.js';
import { destinationHost, globForValue } from '../../platform/glob.js';
import { inferRecipientForm, LIST_OF_FORM, type RecipientList } from './recipients.js';

// A scope learnt from benign runs of the same task (what an orchestrator could know): every tool,
// operation, resource and destination seen, each written as a literal glob (globForValue), so a
// value such as a channel named `*` or a path with `?` allows itself and nothing else. Targets
// (contract 1.1) are learnt by kind: resources with their tool and operation, destinations as
// egress hosts, recipients and accounts into scope.recipients (never their host into egress, which
// would allow anyone at that host).

const MAX_RESOURCES = 256;

export type LearnableAction = Pick<ActionData, 'tool' | 'operation' | 'resource' | 'destination'> & {
  data_classes?: readonly string[] | undefined;
  targets?: ActionData['targets'] | undefined;
};

export function learnScope(actions: Iterable<LearnableAction>): ScopeInput {
  // (tool, operation) → resources seen; null once an action of that pair named none.
  const pairs = new Map<
    string,
    { tool: string; operation: ActionData['operation']; resources: Set<string> | null }
  >();
  const egress = new Set<string>();
  const classes = new Set<string>();
  const recipients: Record<RecipientList, Set<string>> = {
    emails: new Set(),
    accounts: new Set(),
    chat_users: new Set(),
    chat_channels: new Set(),
    urls: new Set(),
  };
  let anyRecipient = false;
  for (const a of actions) {
    const key = `${a.tool}\u0000${a.operation}`;
    let p = pairs.get(key);
    if (p === undefined) {
      p = { tool: a.tool, operation: a.operation, resources: new Set() };
      pairs.set(key, p);
    }
    const resources = a.targets?.filter((t) => t.kind === 'resource').map((t) => t.value) ?? [];
    if (a.resource !== undefined && !resources.includes(a.resource)) resources.unshift(a.resource);
    if (resources.length === 0) p.resources = null;
    else for (const r of resources) p.resources?.add(r);
    if (a.destination !== undefined) egress.add(destinationHost(a.destination));
    for (const t of a.targets ?? []) {
      if (t.kind === 'destination') egress.add(destinationHost(t.value));
      else if (t.kind === 'account') recipients.accounts.add(t.value);
      else if (t.kind === 'recipient') {
        const form = t.form ?? inferRecipientForm(t.value);
        recipients[form !== undefined ? LIST_OF_FORM[form] : 'chat_users'].add(t.value);
      } else continue;
      if (t.kind !== 'destination') anyRecipient = true;
    }
    for (const c of a.data_classes ?? []) classes.add(c);
  }
  const allow: ScopeEntry[] = [];
  for (const p of pairs.values()) {
    const base: ScopeEntry = { tools: [globForValue(p.tool)], operations: [p.operation] };
    if (p.resources === null) {
      allow.push(base);
      continue;
    }
    // An entry lists at most MAX_RESOURCES (schemas/scope.ts): more values, more entries.
    const resources = [...p.resources].sort().map(globForValue);
    for (let i = 0; i < resources.length; i += MAX_RESOURCES)
      allow.push({ ...base, resources: resources.slice(i, i + MAX_RESOURCES) });
  }
  const out: ScopeInput = {
    allow,
    egress: [...egress].sort().map(globForValue),
    data_classes: [...classes].sort(),
  };
  if (anyRecipient) {
    const lists = {} as RecipientScope;
    for (const [list, values] of Object.entries(recipients) as [RecipientList, Set<string>][])
      lists[list] = [...values].sort().map(globForValue).slice(0, MAX_RESOURCES);
    out.recipients = lists;
  }
  return out;
}
