import { createHash } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import type { AgentEventInput } from '../schemas/events/index.js';
import { validateEvent } from '../schemas/validate.js';
import { VALIDATED_HEADER, validatedValue } from '../services/platform/kafka/headers.js';

// Synthetic v1 events for the ingester's integration tests and benchmark: realistic shape
// (mostly actions, some task/credential/approval events), deterministic from (run, index).

const TOOLS = [
  'github.get_file',
  'github.create_pr',
  's3.get_object',
  'slack.post',
  'db.query',
  'http.fetch',
];
const OPS = ['read', 'write', 'read', 'execute', 'read', 'transfer'] as const;
const EVENTS_PER_TASK = 50;

function hex(s: string, len: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}

/** Event `i` of run `run`: tasks of 50 events, spread over 40 agents and 3 tenants. */
export function syntheticEvent(run: string, i: number): AgentEventInput {
  const task = Math.floor(i / EVENTS_PER_TASK);
  const seq = (i % EVENTS_PER_TASK) + 1;
  const agent = task % 40;
  const base = {
    event_id: `${run}-${i}`,
    schema_version: 1 as const,
    occurred_at: new Date(Date.UTC(2026, 10, 1) + i * 7).toISOString(),
    received_at: new Date(Date.UTC(2026, 10, 1) + i * 7 + 40).toISOString(),
    tenant: `tenant-${task % 3}`,
    agent: {
      id: `agent-${agent}`,
      instance: `pod-${agent}-a`,
      workload_identity: `spiffe://acme/agent/${agent}`,
    },
    task_id: `${run}-task-${task}`,
    seq,
    prev_hash: seq === 1 ? undefined : hex(`${run}/${i - 1}`, 64),
    hash: hex(`${run}/${i}`, 64),
  };
  if (seq === 1) {
    return {
      ...base,
      type: 'task.declared',
      data: {
        intent: `Triage open issues in repo ${task % 17} and summarise them in #eng`,
        declared_by: { kind: 'human', id: `user-${task % 9}@acme.example` },
        scope: {
          allow: [
            { tools: ['github.*'], operations: ['read'], resources: [`github:acme/repo-${task % 17}/**`] },
          ],
          egress: ['api.partner-*.example'],
        },
      },
    } as AgentEventInput;
  }
  const k = i % TOOLS.length;
  return {
    ...base,
    type: 'action',
    data: {
      tool: TOOLS[k]!,
      operation: OPS[k]!,
      resource: `github:acme/repo-${task % 17}/issues/${i % 997}`,
      destination: k === 5 ? `https://api.partner-${i % 5}.example/v1/upload` : undefined,
      data_classes: k === 4 ? ['internal', 'pii'] : ['internal'],
      credential_id: `cred-${agent}`,
      outcome: i % 53 === 0 ? 'error' : 'ok',
      arguments: { path: `src/module-${i % 101}.ts`, ref: 'main', limit: 50 },
      latency_ms: 20 + (i % 300),
    },
  } as AgentEventInput;
}

/** JSON bytes of event `i`, as a collector would produce it. */
export function syntheticMessage(run: string, i: number): { key: string; value: string } {
  const event = syntheticEvent(run, i);
  return { key: event.task_id, value: JSON.stringify(event) };
}

/**
 * Event `i` as the gateway puts it on the events topic: validated with the full schema (its
 * defaults applied), serialised, marked with the header the ingester's trusted path looks for
 * (services/ingester/trusted.ts).
 */
export function gatewayMessage(run: string, i: number): { key: string; value: string; headers: IHeaders } {
  const r = validateEvent(syntheticEvent(run, i));
  if (!r.ok) throw new Error(`synthetic event ${i} is invalid: ${JSON.stringify(r.errors)}`);
  return {
    key: r.value.task_id,
    value: JSON.stringify(r.value),
    headers: { [VALIDATED_HEADER]: validatedValue(undefined) },
  };
}
