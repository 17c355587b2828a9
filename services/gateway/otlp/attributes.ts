// The span attributes the receiver reads. OpenTelemetry GenAI semantic conventions for what the
// agent did; `agenttrail.*` for what only an orchestrator knows (task, intent, scope, approvals).
// README "OpenTelemetry GenAI receiver" documents each; keep the two in step.

export const GENAI = {
  operation: 'gen_ai.operation.name',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolArguments: 'gen_ai.tool.call.arguments',
  toolResult: 'gen_ai.tool.call.result',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  model: 'gen_ai.request.model',
  errorType: 'error.type',
} as const;

/** Values of gen_ai.operation.name the receiver turns into events. */
export const EXECUTE_TOOL = 'execute_tool';
export const INVOKE_AGENT = 'invoke_agent';

export const AT = {
  taskId: 'agenttrail.task.id',
  parentTaskId: 'agenttrail.task.parent_id',
  intent: 'agenttrail.task.intent',
  /** The scope as JSON text (schemas/scope.ts). */
  scope: 'agenttrail.task.scope',
  /** `kind:id`, e.g. `human:alice@example.com`; default the agent as a service. */
  declaredBy: 'agenttrail.task.declared_by',
  expiresAt: 'agenttrail.task.expires_at',
  /** The event's seq in its task, when the instrumentation numbers its own events. */
  seq: 'agenttrail.seq',
  operation: 'agenttrail.operation',
  resource: 'agenttrail.resource',
  destination: 'agenttrail.destination',
  /** JSON text of data.targets (schemas/events/action.ts). */
  targets: 'agenttrail.targets',
  dataClasses: 'agenttrail.data_classes',
  credentialId: 'agenttrail.credential.id',
  approvalId: 'agenttrail.approval.id',
  /** `denied` for a call a guard refused (OTel has no status for it). */
  outcome: 'agenttrail.outcome',
  workloadIdentity: 'agenttrail.agent.workload_identity',
} as const;

export const RESOURCE = {
  serviceName: 'service.name',
  serviceInstance: 'service.instance.id',
} as const;
