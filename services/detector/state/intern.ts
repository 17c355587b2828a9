import type { Scope } from '../../../schemas/index.js';
import { canonicalJson } from '../../../schemas/index.js';

// Tasks of one agent template usually declare the same scope. Interning keeps one object per
// distinct scope, so 10,000 tasks cost one scope each only when the scopes actually differ, and
// the compiled form (cached per object) is shared too. Done on declaration, never per action.

const MAX_INTERNED = 20_000;
const interned = new Map<string, Scope>();

export function internScope(scope: Scope): Scope {
  const key = canonicalJson(scope);
  const hit = interned.get(key);
  if (hit) return hit;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(key, scope);
  return scope;
}
