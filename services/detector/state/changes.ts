import type { CredentialState, TaskState } from './types.js';

// Change notification: how the domain says which unit of its state (a task, a credential, a
// sequence key, a baseline identity) it changed in place, without knowing who listens. The
// snapshot writer listens (snapshot/fragments.ts keeps each unit's JSON text until it is
// touched); the domain is handed its observers and never imports persistence. The observer is a
// required argument of each structure: one built without it would leave stale snapshot texts.
// A unit that is created, replaced by a new object or deleted needs no notice: observers key by
// identity.

export interface Changes<T extends object> {
  /** `unit` was changed in place. Hot path: called at every such change, so keep it one step. */
  touch(unit: T): void;
}

/** The observers of the units `applyEvent` may change besides the event's own task. */
export interface StateChanges {
  tasks: Changes<TaskState>;
  credentials: Changes<CredentialState>;
}
