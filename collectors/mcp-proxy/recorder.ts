import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Scope } from '../../schemas/scope.js';
import type { AgentTrail, TaskHandle } from '../../sdk/index.js';
import { AgentTrailSdkError } from '../../sdk/index.js';
import { extractTargets } from '../../sdk/targets.js';
import { type Evaluation, evaluateAction } from '../../services/detector/scope/evaluate.js';
import type { MappedCall } from '../../services/platform/tool-mapping.js';
import type { TaskDeclaration } from './config.js';
import { noTask, OUT_OF_SCOPE_CODE, proxyError } from './errors.js';
import { resultText, type ToolResult } from './result-text.js';

// The task the proxy's calls belong to, and the recording of each call as an `action` through
// the SDK's wrapTool: the SDK owns the limits, truncation markers (`data.adjusted`), batching,
// retries, bounded buffer and the rule that no record is dropped silently. In enforce mode a call
// the detector's own scope evaluation rejects is not forwarded: it is recorded `denied`.

export type Mode = 'record' | 'enforce';

interface ActiveTask {
  handle: TaskHandle;
  scope: Scope;
  /** JSON of the declaration, so a client may repeat it on every call. */
  declared: string;
  /** Actions numbered so far (the detector counts every action, denied ones too). */
  actions: number;
}

/** A call the proxy refused: the scope elements it breaks, as the detector names them. */
export class ScopeRefusal extends Error {
  constructor(readonly evaluation: Evaluation) {
    super(
      `refused: outside the task's scope: ${evaluation.violations.map((v) => `${v.element}: ${v.detail}`).join('; ')}`,
    );
    this.name = 'ScopeRefusal';
  }
}

/** A result with `isError: true`: recorded as outcome `error`, then returned to the client as it came. */
class ToolResultError extends Error {
  constructor(readonly result: ToolResult) {
    super(resultText(result) || 'the tool reported an error (isError) without content');
  }
}

export interface RecorderOptions {
  trail: AgentTrail;
  mode: Mode;
  /** Who declared a task that does not say (the agent itself, as a service). */
  defaultDeclarer: string;
  excerptChars: number;
  now?: () => number;
}

export interface ToolCall {
  /** The name the client called (prefix included): what its scope names. */
  tool: string;
  args: Record<string, unknown> | undefined;
  mapped: MappedCall;
  /** A declaration the client sent with this call (`_meta`), if any. */
  declaration: TaskDeclaration | undefined;
}

export class TaskRecorder {
  private active: Promise<ActiveTask> | undefined;

  constructor(private readonly o: RecorderOptions) {}

  /** Declare the task now (from configuration). */
  declare(decl: TaskDeclaration): Promise<ActiveTask> {
    const pending = this.o.trail
      .declareTask({
        task_id: decl.task_id,
        intent: decl.intent,
        scope: decl.scope,
        declared_by: decl.declared_by ?? { kind: 'service', id: this.o.defaultDeclarer },
        expires_at: decl.expires_at,
        labels: decl.labels,
      })
      .then((handle) => ({ handle, scope: decl.scope, declared: JSON.stringify(decl), actions: 0 }));
    this.active = pending;
    // A declaration that fails leaves no task: the next declaring call may try again.
    pending.catch(() => {
      if (this.active === pending) this.active = undefined;
    });
    return pending;
  }

  private async taskFor(decl: TaskDeclaration | undefined): Promise<ActiveTask> {
    if (this.active === undefined) {
      if (decl === undefined) {
        throw noTask(
          'no task is declared: set `task` in the proxy config, or send `_meta["agenttrail/task"]` with the first tools/call',
        );
      }
      return this.declare(decl);
    }
    const task = await this.active;
    if (decl !== undefined && decl.task_id !== task.handle.id && JSON.stringify(decl) !== task.declared) {
      throw proxyError(
        ErrorCode.InvalidRequest,
        'AT_ERR_MCP_TASK_INVALID',
        `task ${task.handle.id} is already declared for this session; one proxy session records one task`,
      );
    }
    return task;
  }

  /** Forward one tools/call (or refuse it, in enforce mode) and record it as an action. */
  async call(c: ToolCall, forward: () => Promise<ToolResult>): Promise<ToolResult> {
    const task = await this.taskFor(c.declaration);
    task.actions += 1;
    // The targets the mapping names, extracted once: enforce mode judges them as the detector will.
    const targets =
      c.mapped.targets.length > 0
        ? extractTargets(c.mapped.targets, [c.args ?? {}], {
            resource: c.mapped.resource,
            destination: c.mapped.destination,
          }).targets
        : undefined;
    const target = {
      tool: c.tool,
      operation: c.mapped.operation,
      resource: c.mapped.resource ?? targets?.find((t) => t.kind === 'resource')?.value,
      destination: c.mapped.destination ?? targets?.find((t) => t.kind === 'destination')?.value,
      data_classes: c.mapped.data_classes,
      ...(targets && targets.length > 0 ? { targets } : {}),
    };
    const refusal =
      this.o.mode === 'enforce'
        ? refusalOf(
            evaluateAction(task.scope, target, {
              actionNumber: task.actions,
              atMs: (this.o.now ?? Date.now)(),
              skewMs: 0,
            }),
          )
        : undefined;
    const run = task.handle.wrapTool<[Record<string, unknown>], ToolResult>(
      c.tool,
      {
        operation: target.operation,
        resource: target.resource,
        destination: target.destination,
        data_classes: target.data_classes,
        targets: c.mapped.targets,
        arguments: (a) => a,
        excerpt: resultText,
        excerptChars: this.o.excerptChars,
        isDenied: (err) => err instanceof ScopeRefusal,
      },
      async () => {
        if (refusal) throw refusal;
        const result = await forward();
        if (result.isError === true) throw new ToolResultError(result);
        return result;
      },
    );
    try {
      return await run(c.args ?? {});
    } catch (err) {
      if (err instanceof ToolResultError) return err.result;
      if (err instanceof ScopeRefusal) {
        throw proxyError(OUT_OF_SCOPE_CODE, 'AT_ERR_MCP_OUT_OF_SCOPE', err.message, {
          task_id: task.handle.id,
          violations: err.evaluation.violations,
        });
      }
      if (err instanceof AgentTrailSdkError) {
        // The call was made but its record could not be: fail closed, as wrapTool does.
        throw proxyError(
          ErrorCode.InternalError,
          'AT_ERR_MCP_UNRECORDED',
          `the call to ${c.tool} was made but its action could not be recorded (${err.name}: ${err.message})`,
          { task_id: task.handle.id },
        );
      }
      throw err;
    }
  }

  /** Record the task's end (when one was declared). */
  async end(outcome: 'completed' | 'cancelled', summary: string): Promise<void> {
    if (this.active === undefined) return;
    const task = await this.active.catch(() => undefined);
    await task?.handle.end({ outcome, summary });
  }
}

function refusalOf(e: Evaluation): ScopeRefusal | undefined {
  return e.allowed ? undefined : new ScopeRefusal(e);
}
