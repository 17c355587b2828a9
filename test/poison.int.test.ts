import type { IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../cli/pipeline/observe.js';
import type { Pipeline } from '../cli/pipeline/start.js';
import { TaskStream } from '../scenarios/builder.js';
import type { AgentEvent } from '../schemas/index.js';
import { VALIDATED_HEADER, VALIDATED_V1 } from '../services/platform/kafka/headers.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { clickhouseClient, kafkaClient } from './helpers/stack.js';

// Issue 10 item 1, acceptance: one poison message of each class, produced straight to Kafka
// (with and without a forged gateway mark, so both the ingester's trusted path and the full
// schema are exercised, and the detector raises alerts whose rows hold the bad strings), must
// neither stop storage nor detection: after each, a control event sent through the gateway is
// stored, and its violation alerted (the alert row stored), within 5 s.

const TENANT = 'poison';
const SECRET = 'whsec_poison_int_test';
let e2e: E2E;
let run: string;
const ch = clickhouseClient();
let pipeline: Pipeline;
const SCOPE = { allow: [{ tools: ['http.get'], operations: ['read' as const], resources: ['web:*'] }] };

let taskNo = 0;
function stream(): TaskStream {
  taskNo++;
  return new TaskStream({ tenant: TENANT, taskId: `${run}.t${taskNo}`, startMs: Date.now() - 60_000 });
}

/** The stored JSON of an event as the gateway writes it (received_at set), before mutation. */
function stored(e: AgentEvent): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...e, received_at: new Date().toISOString() }));
}

async function post(events: AgentEvent[]): Promise<void> {
  const res = await fetch(`${pipeline.gatewayUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline.apiKey}` },
    body: JSON.stringify(events),
  });
  expect(res.status, await res.clone().text()).toBe(202);
}

const marked: IHeaders = { [VALIDATED_HEADER]: VALIDATED_V1 };

interface Poison {
  name: string;
  /** The message(s) produced straight to the events topic. */
  build(): Promise<Array<{ key: string; value: Buffer | null; headers?: IHeaders }>>;
}

/** A declared task (through the gateway) whose next action, built by `mutate`, is poison. */
function actionPoison(
  name: string,
  mark: boolean,
  mutate: (e: Record<string, unknown>) => void,
  text: (json: string) => string = (json) => json,
): Poison {
  return {
    name,
    async build() {
      const s = stream().declared(SCOPE);
      await post(s.events());
      s.action({ tool: 'shell.exec', operation: 'execute', resource: 'host:db-1' });
      const e = stored(s.events().at(-1)!);
      mutate(e);
      return [
        { key: s.taskId, value: Buffer.from(text(JSON.stringify(e))), ...(mark ? { headers: marked } : {}) },
      ];
    },
  };
}

const data = (e: Record<string, unknown>) => e.data as Record<string, unknown>;

const POISONS: Poison[] = [
  actionPoison('lone high surrogate in data.resource (unmarked)', false, (e) => {
    data(e).resource = 'erp:invoices/\ud800';
  }),
  actionPoison('lone high surrogate in data.resource (forged mark)', true, (e) => {
    data(e).resource = 'erp:invoices/\ud800';
  }),
  actionPoison('lone high surrogate in data.tool (forged mark)', true, (e) => {
    data(e).tool = 'shell.\ud800exec';
  }),
  actionPoison('lone high surrogate in agent.id (forged mark)', true, (e) => {
    (e.agent as Record<string, unknown>).id = 'agent-\ud800';
  }),
  actionPoison('lone surrogate in a key of data.arguments (forged mark)', true, (e) => {
    data(e).arguments = { 'q\ud800': 1 };
  }),
  // Spliced in as text: this test's own JSON.stringify would overflow on it.
  actionPoison(
    '5,000-deep data.arguments (forged mark)',
    true,
    (e) => {
      data(e).arguments = { deep: 'DEEP' };
    },
    (json) => json.replace('"DEEP"', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`),
  ),
  {
    name: 'not JSON, empty and invalid UTF-8 values',
    async build() {
      return [
        { key: 'x', value: Buffer.from('{"event_id": ') },
        { key: 'x', value: null },
        { key: 'x', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: marked },
      ];
    },
  },
];

beforeAll(async () => {
  e2e = await startE2E('poison', {
    tenant: TENANT,
    secret: SECRET,
    partitions: 2,
    env: { ingester: { INGESTER_FLUSH_INTERVAL_MS: '200' } },
  });
  ({ run, pipeline } = e2e);
});

afterAll(async () => {
  await e2e?.stop();
  await ch.close();
});

async function count(query: string, params: Record<string, unknown>): Promise<number> {
  const rs = await ch.query({ query, query_params: { db: run, ...params }, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
}

describe('poison straight to Kafka never stops storage or detection', () => {
  const producer = kafkaClient().producer();
  beforeAll(() => producer.connect());
  afterAll(() => producer.disconnect());

  it.each(POISONS.map((p) => [p.name, p] as const))(
    'after %s, a control event is stored and alerted within 5 s',
    async (_n, poison) => {
      await producer.send({ topic: pipeline.topics.events, acks: -1, messages: await poison.build() });

      // The control: a declared task whose action uses an undeclared tool (AT-SCOPE-001).
      const control = stream().declared(SCOPE).action({ tool: 'shell.exec', operation: 'execute' });
      const actionId = control.events().at(-1)!.event_id;
      await post(control.events());
      const sentAt = Date.now();

      const stored = await pollUntil(
        () =>
          count('SELECT count() AS n FROM {db:Identifier}.events FINAL WHERE event_id = {id:String}', {
            id: actionId,
          }),
        (n) => n === 1,
        5_000,
        100,
      );
      const alerted = await pollUntil(
        () =>
          count(
            "SELECT count() AS n FROM {db:Identifier}.alerts WHERE task_id = {task:String} AND rule_id = 'AT-SCOPE-001'",
            { task: control.taskId },
          ),
        (n) => n >= 1,
        Math.max(0, 5_000 - (Date.now() - sentAt)),
        100,
      );
      pipeline.assertRunning();
      expect({ stored: stored.met, alerted: alerted.met, ms: Date.now() - sentAt }).toMatchObject({
        stored: true,
        alerted: true,
      });
    },
  );

  it('every poison message is on the dead-letter topic with its reason, none lost', async () => {
    const admin = kafkaClient().admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(pipeline.topics.dlq);
    await admin.disconnect();
    // One message per poison, three for the last; the detector adds alert rows it could not store.
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBeGreaterThanOrEqual(POISONS.length + 2);
  });
});
