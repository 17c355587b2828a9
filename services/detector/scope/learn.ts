import type { ActionData, ScopeEntry, ScopeInput } from '../../../schemas/index.js';
import { destinationHost, globForValue } from '../../platform/glob.js';

// A scope learnt from benign runs of the same task (what an orchestrator could know): every tool,
// operation, resource and destination seen, each written as a literal glob (globForValue), so a
// value such as a channel named `*` or a path with `?` allows itself and nothing else.

const MAX_RESOURCES = 256;

export type LearnableAction = Pick<ActionData, 'tool' | 'operation' | 'resource' | 'destination'> & {
  data_classes?: readonly string[] | undefined;
};

export function learnScope(actions: Iterable<LearnableAction>): ScopeInput {
  // (tool, operation) → resources seen; null once an action of that pair named none.
  const pairs = new Map<
    string,
    { tool: string; operation: ActionData['operation']; resources: Set<string> | null }
  >();
  const egress = new Set<string>();
  const classes = new Set<string>();
  for (const a of actions) {
    const key = `${a.tool}\u0000${a.operation}`;
    let p = pairs.get(key);
    if (p === undefined) {
      p = { tool: a.tool, operation: a.operation, resources: new Set() };
      pairs.set(key, p);
    }
    if (a.resource === undefined) p.resources = null;
    else p.resources?.add(a.resource);
    if (a.destination !== undefined) egress.add(destinationHost(a.destination));
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
  return {
    allow,
    egress: [...egress].sort().map(globForValue),
    data_classes: [...classes].sort(),
  };
}
