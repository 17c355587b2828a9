import type { AgentEvent, EventOf } from '../../../../schemas/index.js';
import type { DetectorConfig } from '../../config.js';
import type { Evaluation } from '../../scope/evaluate.js';
import type { DetectorState, TaskState } from '../../state/types.js';
import type { BuiltinRuleId } from '../catalogue.js';

/** Raise a built-in rule for the current event. `evidence` defaults to the current event. */
export type Emit = (
  ruleId: BuiltinRuleId,
  vars: Record<string, string | number | undefined>,
  evidence?: readonly string[],
) => void;

/** What a check sees: the task state *before* the event is folded in. */
export interface CheckContext<E extends AgentEvent = AgentEvent> {
  cfg: Readonly<DetectorConfig>;
  state: DetectorState;
  task: TaskState;
  event: E;
  atMs: number;
  emit: Emit;
  /** The action judged against the task's scope, once per event (checkScope); later checks reuse it. */
  scopeEvaluation?: Evaluation | undefined;
}

export type ActionContext = CheckContext<EventOf<'action'>>;
