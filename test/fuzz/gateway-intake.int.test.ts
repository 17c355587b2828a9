import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildApp } from '../../services/gateway/app.js';
import type { AppConfig } from '../../services/gateway/config.js';
import { KeyStore, mintKey } from '../../services/gateway/keys.js';
import { kafkaSink } from '../../services/gateway/sink.js';
import { createKafka } from '../../services/platform/kafka/client.js';
import { createProducer } from '../../services/platform/kafka/producer.js';
import { type Database, fuzzTarget } from './database.js';
import {
  build,
  describeRequest,
  FUZZ_MAX_BATCH,
  GATEWAY_EXAMPLES,
  type GatewayInput,
  gatewayInput,
} from './gateway-inputs.js';
import { idSource } from './materialize.js';
import { allStoredIds, type Pipeline, startPipeline, storedIds, WARMUP_PREFIX, within } from './pipeline.js';
import { FUZZ, FUZZ_TEST_TIMEOUT_MS, invariant, runTarget } from './run.js';
import { controlEvent, type Tally, tally, waitStored } from './storage.js';

// Target 1: the gateway's intake. The real app (buildApp) over HTTP, its Kafka sink on a real
// producer, and behind it the real ingester into ClickHouse, so "accepted" is checked where it
// matters: in `events`. Invariants, per input: no 5xx and an answer at all; a 2xx accepted
// exactly the events sent, of a UTF-8 body, and every one is stored; nothing of a rejected
// batch is stored; a valid batch is accepted; and a control event sent after it is accepted and
// stored within FUZZ_CONTROL_MS (no wedge).

const CONFIG: AppConfig = {
  GATEWAY_FINGERPRINT_KEY: 'fuzz-fingerprint-key-0123456789',
  GATEWAY_METRICS_TOKEN: undefined,
  GATEWAY_MAX_BODY_BYTES: 1024 * 1024,
  GATEWAY_MAX_BATCH_EVENTS: FUZZ_MAX_BATCH,
  GATEWAY_RATE_LIMIT_EVENTS_PER_S: 10_000_000,
  GATEWAY_RATE_LIMIT_BURST_EVENTS: 100_000_000,
  GATEWAY_PRODUCE_TIMEOUT_MS: 5_000,
  GATEWAY_RETRY_AFTER_S: 1,
};
/** Small sends: batches of valid events near their size bounds take several. */
const FLUSH_BYTES = 64 * 1024;
const REQUEST_TIMEOUT_MS = CONFIG.GATEWAY_PRODUCE_TIMEOUT_MS + 10_000;

const acme = mintKey('acme');
const keys = new KeyStore([acme.record]);
const otherKey = mintKey('acme').key;

interface Stack {
  pipeline: Pipeline;
  url: string;
  close(): Promise<void>;
}

async function startStack(db: Database): Promise<Stack> {
  const pipeline = await startPipeline(db.name, 'fz_gw');
  db.topics.push(pipeline.topic, pipeline.dlqTopic);
  const log = pipeline.log;
  const kafka = createKafka({ KAFKA_BROKERS: db.brokers, KAFKA_CLIENT_ID: 'fuzz' }, log, 'gateway');
  const producer = createProducer(kafka);
  await producer.connect();
  const sink = kafkaSink(producer, pipeline.topic, CONFIG.GATEWAY_PRODUCE_TIMEOUT_MS, {
    maxFlushBytes: FLUSH_BYTES,
  });
  const app = await buildApp({ config: CONFIG, keys, sink, logger: log });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    pipeline,
    url,
    async close() {
      await within(app.close(), 10_000);
      await within(producer.disconnect(), 10_000);
      await pipeline.close();
    },
  };
}

async function post(url: string, body: Buffer, headers: Record<string, string>) {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, text: await res.text() };
}

describe('fuzz: gateway intake', () => {
  const target = fuzzTarget('fz_gw', startStack, { beforeAll, afterAll });
  const nextId = idSource('fzgw');
  const accepted = new Set<string>();
  const controls = new Set<string>();
  const t: Tally = tally();
  const statuses = new Map<number, number>();
  let slowest = 0;

  async function one(s: Stack, input: GatewayInput, stored: string[], rejected: string[]) {
    const b = build(input, nextId);
    const headers: Record<string, string> = {};
    if (b.contentType !== undefined) headers['content-type'] = b.contentType;
    if (input.auth !== 'missing')
      headers.authorization = `Bearer ${input.auth === 'ok' ? acme.key : otherKey}`;
    if (input.requestId !== undefined) headers['x-request-id'] = input.requestId;
    t.inputs++;
    let res: { status: number; text: string };
    const started = Date.now();
    try {
      res = await post(s.url, b.body, headers);
      slowest = Math.max(slowest, Date.now() - started);
    } catch (err) {
      t.wedges++;
      throw new Error(`no answer (${(err as Error).message}) to ${describeRequest(input, b)}`);
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const what = () => `${res.status} ${res.text.slice(0, 600)} for ${describeRequest(input, b)}`;
    if (res.status >= 500) t.s5xx++;
    invariant(res.status < 500, () => `5xx: ${what()}\nlog: ${s.pipeline.logTail().join('\n')}`);
    if (res.status >= 200 && res.status < 300) {
      t.s2xx++;
      invariant(res.status === 202, what);
      // Accepted bytes that are not UTF-8 would be stored as U+FFFD: not what was sent.
      invariant(isUtf8(b.body), () => `2xx for a body that is not UTF-8: ${what()}`);
      const got = (JSON.parse(res.text) as { results: Array<{ event_id: string }> }).results.map(
        (r) => r.event_id,
      );
      invariant(
        b.ids !== undefined && b.ids.length === got.length && b.ids.every((id, i) => id === got[i]),
        () => `2xx accepted ${JSON.stringify(got)}, not the events sent: ${what()}`,
      );
      for (const id of got) accepted.add(id);
      stored.push(...got);
      t.acceptedEvents += got.length;
    } else {
      t.s4xx++;
      invariant(!b.clean, () => `a valid batch was refused: ${what()}`);
      for (const id of b.ids ?? []) if (id !== undefined) rejected.push(id);
    }
  }

  it(
    'no 5xx, every 2xx event stored, nothing rejected stored, a control stored after each input',
    async () => {
      await runTarget({
        name: 'gateway-intake',
        file: 'test/fuzz/gateway-intake.int.test.ts',
        arbitrary: fc.array(gatewayInput, { minLength: 1, maxLength: 4 }),
        examples: GATEWAY_EXAMPLES,
        describe: (inputs) => inputs.map((i) => describeRequest(i, build(i, nextId))).join('\n  then '),
        summary: () =>
          `${t.inputs} inputs, 2xx ${t.s2xx} / 4xx ${t.s4xx} / 5xx ${t.s5xx}, ` +
          `accepted events stored ${t.storedEvents}/${t.acceptedEvents}, rejected-stored ${t.rejectedStored}, ` +
          `controls stored ${t.controlsStored}/${t.controls}, wedges ${t.wedges}, slowest answer ${slowest} ms ` +
          `(${[...statuses]
            .sort((a, b) => a[0] - b[0])
            .map(([s, n]) => `${s}×${n}`)
            .join(' ')})`,
        property: async (inputs) => {
          const s = await target.fresh();
          try {
            const stored: string[] = [];
            const rejected: string[] = [];
            const sent: Array<{ id: string; at: number }> = [];
            for (const input of inputs) {
              await one(s, input, stored, rejected);
              // The control: a valid event right after, which must be accepted and stored.
              const c = controlEvent(nextId());
              t.controls++;
              const res = await post(s.url, Buffer.from(JSON.stringify(c)), {
                'content-type': 'application/json',
                authorization: `Bearer ${acme.key}`,
              }).catch((err: Error) => ({ status: 0, text: err.message }));
              if (res.status !== 202) t.wedges++;
              invariant(res.status === 202, () => `control answered ${res.status} ${res.text.slice(0, 300)}`);
              controls.add(c.event_id);
              sent.push({ id: c.event_id, at: Date.now() });
            }
            const w = await waitStored(target.ch, s.pipeline, stored, sent, FUZZ.controlMs);
            t.storedEvents += stored.length - w.missingEvents.length;
            t.controlsStored += sent.length - w.lateControls.length;
            t.wedges += w.lateControls.length > 0 ? 1 : 0;
            invariant(w.ok, () => w.report);
            const leaked = await storedIds(
              target.ch,
              rejected.filter((id) => !accepted.has(id)),
            );
            t.rejectedStored += leaked.size;
            invariant(
              leaked.size === 0,
              () => `events of a rejected batch were stored: ${[...leaked].join(', ')}`,
            );
            invariant(s.pipeline.healthy(), () => `ingester unhealthy: ${String(s.pipeline.fatal[0])}`);
          } catch (err) {
            target.dirty = true;
            throw err;
          }
        },
      });
      // Whole-table check: nothing is stored that no 2xx accepted.
      const extra = (await allStoredIds(target.ch)).filter(
        (id) => !accepted.has(id) && !controls.has(id) && !id.startsWith(WARMUP_PREFIX),
      );
      invariant(extra.length === 0, () => `stored without a 2xx: ${extra.slice(0, 20).join(', ')}`);
    },
    FUZZ_TEST_TIMEOUT_MS,
  );
});
