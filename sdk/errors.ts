import type { FieldError } from '../schemas/index.js';

// What the SDK throws. Each says whether the events concerned were kept (and will be retried)
// or will never be accepted, because that is what an agent author must decide on.

export class AgentTrailSdkError extends Error {
  override name = 'AgentTrailSdkError';
}

/** The event did not pass the v1 schema locally; it was not recorded and used no seq. */
export class EventValidationError extends AgentTrailSdkError {
  override name = 'EventValidationError';
  constructor(readonly errors: FieldError[]) {
    super(`event is not valid v1: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
}

/** The buffer stayed full for `bufferFullTimeoutMs`; the event was not recorded and used no seq. */
export class BufferFullError extends AgentTrailSdkError {
  override name = 'BufferFullError';
}

/**
 * The gateway refused events with a 4xx that retrying cannot fix; those events (`eventIds`) are
 * not stored. Other events of the same request that the gateway did not name were sent again.
 */
export class BatchRejectedError extends AgentTrailSdkError {
  override name = 'BatchRejectedError';
  /** The gateway's error code, e.g. `AT_ERR_EVENT_INVALID`, `AT_ERR_BODY_TOO_LARGE`. */
  readonly code: string | undefined;
  constructor(
    readonly status: number,
    message: string,
    readonly eventIds: string[],
    readonly details?: unknown,
  ) {
    const code = (details as { code?: unknown } | null | undefined)?.code;
    super(
      `gateway rejected ${eventIds.length} event(s) with ${status}${typeof code === 'string' ? ` ${code}` : ''}: ${message}`,
    );
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/**
 * A recording the SDK could not make and could not throw to the caller: the action of a tool
 * call that failed (the tool's own error is what the caller gets). `cause` says why.
 */
export class RecordFailedError extends AgentTrailSdkError {
  override name = 'RecordFailedError';
}

/** Every retry failed; the events are still buffered and will be sent on the next flush. */
export class GatewayUnavailableError extends AgentTrailSdkError {
  override name = 'GatewayUnavailableError';
}

export class ClosedError extends AgentTrailSdkError {
  override name = 'ClosedError';
}

export class TaskEndedError extends AgentTrailSdkError {
  override name = 'TaskEndedError';
}
