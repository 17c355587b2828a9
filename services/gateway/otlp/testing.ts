import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

// Spans made by the real OpenTelemetry JS SDK, for tests of the receiver: an agent run as GenAI
// instrumentation records it (invoke_agent around execute_tool calls, an LLM call between them).

export const SCOPE = { allow: [{ tools: ['files.*'], operations: ['read', 'write'] }] };

export interface AgentRunOptions {
  taskId?: string;
  /** Put the task's declaration (intent, scope) on the invoke_agent span (default true). */
  declare?: boolean;
  toolCalls?: Array<{
    tool?: string;
    args?: unknown;
    result?: string;
    error?: string;
    attrs?: Record<string, unknown>;
  }>;
}

/** Run one agent under `provider`'s tracer: invoke_agent → chat, execute_tool × n. */
export function recordAgentRun(provider: BasicTracerProvider, o: AgentRunOptions = {}): void {
  const tracer = provider.getTracer('agent-under-test', '1.0.0');
  const root = tracer.startSpan('invoke_agent support-bot', {
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'support-bot',
      ...(o.taskId ? { 'agenttrail.task.id': o.taskId } : {}),
      ...(o.declare === false
        ? {}
        : {
            'agenttrail.task.intent': 'Summarise the quarterly report',
            'agenttrail.task.scope': JSON.stringify(SCOPE),
            'agenttrail.task.declared_by': 'human:alice',
          }),
    },
  });
  const ctx = trace.setSpan(context.active(), root);
  const chat = tracer.startSpan('chat gpt-x', { attributes: { 'gen_ai.operation.name': 'chat' } }, ctx);
  chat.end();
  for (const call of o.toolCalls ?? [
    { tool: 'files.read', args: { path: '/reports/q3.pdf' }, result: 'Revenue up' },
  ]) {
    const span = tracer.startSpan(
      `execute_tool ${call.tool ?? ''}`,
      {
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.agent.id': 'support-bot',
          ...(call.tool ? { 'gen_ai.tool.name': call.tool } : {}),
          'gen_ai.tool.call.id': `call-${Math.random().toString(36).slice(2)}`,
          ...(call.args !== undefined ? { 'gen_ai.tool.call.arguments': JSON.stringify(call.args) } : {}),
          ...(call.result !== undefined ? { 'gen_ai.tool.call.result': call.result } : {}),
          ...(o.taskId ? { 'agenttrail.task.id': o.taskId } : {}),
          ...((call.attrs ?? {}) as Record<string, string>),
        },
      },
      ctx,
    );
    if (call.error) span.setStatus({ code: SpanStatusCode.ERROR, message: call.error });
    span.end();
  }
  root.end();
}

/** A provider exporting to memory, and the spans it has finished. */
export function memoryProvider(serviceName = 'support-bot-svc') {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': 'pod-7' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, spans: (): ReadableSpan[] => exporter.getFinishedSpans() };
}
