import fc from 'fast-check';
import { type Message, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { VALIDATED_HEADER } from '../../services/platform/kafka/headers.js';
import { kafkaClient } from '../helpers/stack.js';
import { type Database, fuzzTarget } from './database.js';
import {
  type BuiltMessage,
  buildMessage,
  describeMessage,
  INGESTER_EXAMPLES,
  type MessageInput,
  messageInput,
} from './ingester-inputs.js';
import { idSource } from './materialize.js';
import { type Pipeline, startPipeline, storedIds } from './pipeline.js';
import { FUZZ, FUZZ_TEST_TIMEOUT_MS, invariant, runTarget } from './run.js';
import { controlEvent, pipelineState, type Sent, settle } from './storage.js';

// Target 2: the ingester's row path. Messages produced straight to the events topic (unmarked,
// or with the gateway's validated header forged) and consumed by the real loop and writer.
// Invariants: every message ends stored in `events` or on the DLQ topic with a reason (not
// both); a control event produced after each one is stored within FUZZ_CONTROL_MS (no wedge);
// the loop never calls its fatal handler and stays healthy.

interface Stack {
  pipeline: Pipeline;
  producer: Producer;
  close(): Promise<void>;
}

async function startStack(db: Database): Promise<Stack> {
  const pipeline = await startPipeline(db.name, 'fz_ing');
  db.topics.push(pipeline.topic, pipeline.dlqTopic);
  // A plain producer, as any client of the topic could be.
  const producer = kafkaClient(db.brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return {
    pipeline,
    producer,
    async close() {
      await producer.disconnect().catch(() => {});
      await pipeline.close();
    },
  };
}

/** A dead letter's reason without its details: `schema`, `not JSON`, `ClickHouse code 25`… */
function reasonKind(reason: string): string {
  const code = /^ClickHouse refused the row: code (\d+)/.exec(reason);
  return code ? `ClickHouse code ${code[1]}` : (reason.split(':')[0] ?? reason).slice(0, 40);
}

interface Tracked {
  input: MessageInput;
  built: BuiltMessage;
  offset: string;
}

describe('fuzz: ingester row path', () => {
  const target = fuzzTarget('fz_ing', startStack, { beforeAll, afterAll });
  const nextId = idSource('fzin');
  let controlN = 0;
  const idCount = new Map<string, number>();
  const n = { messages: 0, marked: 0, stored: 0, dead: 0, lost: 0, both: 0, notUtf8Stored: 0 };
  const c = { sent: 0, stored: 0, wedges: 0 };
  const reasons = new Map<string, number>();

  /** Produce each message followed by its control, in the sends the inputs ask for. */
  async function produce(s: Stack, inputs: MessageInput[]) {
    const tracked: Tracked[] = [];
    const controls: Sent[] = [];
    let send: Array<{ message: Message; track?: Omit<Tracked, 'offset'>; control?: string }> = [];
    const flush = async () => {
      if (send.length === 0) return;
      const [meta] = await s.producer.send({
        topic: s.pipeline.topic,
        acks: -1,
        messages: send.map((x) => x.message),
      });
      const at = Date.now();
      const base = BigInt(meta!.baseOffset!);
      send.forEach((x, i) => {
        if (x.track) tracked.push({ ...x.track, offset: String(base + BigInt(i)) });
        if (x.control) controls.push({ id: x.control, at });
      });
      send = [];
    };
    for (const input of inputs) {
      if (input.newSend) await flush();
      const built = buildMessage(input, nextId);
      if (built.eventId !== undefined) idCount.set(built.eventId, (idCount.get(built.eventId) ?? 0) + 1);
      n.messages++;
      if (built.marked) n.marked++;
      send.push({
        message: { key: built.key, value: built.value, headers: built.headers },
        track: { input, built },
      });
      // The control: alternately as the gateway marks it and unmarked (both decode paths).
      const control = controlEvent(nextId());
      const marked = controlN++ % 2 === 0;
      send.push({
        message: {
          key: 'fuzz-control',
          value: JSON.stringify(control),
          headers: marked ? { [VALIDATED_HEADER]: 'v1' } : {},
        },
        control: control.event_id,
      });
      c.sent++;
    }
    await flush();
    return { tracked, controls };
  }

  /**
   * Wait until every control is stored and every message is stored or dead-lettered, or the
   * deadline. When each control was first seen stored, and whether a message's row is there.
   */
  async function outcomes(p: Pipeline, tracked: Tracked[], controls: Sent[]) {
    const storedAt = new Map<string, number>();
    const isStored = (t: Tracked) => t.built.eventId !== undefined && storedAt.has(t.built.eventId);
    const unresolved = () => tracked.filter((t) => !p.letters.has(`0/${t.offset}`) && !isStored(t));
    const pending = () => controls.filter((x) => !storedAt.has(x.id));
    const deadline = Math.max(...controls.map((x) => x.at)) + FUZZ.controlMs;
    await settle(p, deadline, async () => {
      const look = [...pending().map((x) => x.id), ...unresolved().flatMap((t) => t.built.eventId ?? [])];
      const now = Date.now();
      for (const id of await storedIds(target.ch, look)) storedAt.set(id, now);
      return pending().length === 0 && unresolved().length === 0;
    });
    // Dead letters go out after the insert: give a stored row's letter a moment, then look again.
    await p.activity(50);
    const rows = await storedIds(
      target.ch,
      tracked.flatMap((t) => t.built.eventId ?? []),
    );
    return { storedAt, stored: (t: Tracked) => t.built.eventId !== undefined && rows.has(t.built.eventId) };
  }

  it(
    'every message stored or dead-lettered with a reason, a control stored after each one',
    async () => {
      await runTarget({
        name: 'ingester-rows',
        file: 'test/fuzz/ingester-rows.int.test.ts',
        arbitrary: fc.array(messageInput, { minLength: 1, maxLength: 4 }),
        examples: INGESTER_EXAMPLES,
        describe: (inputs) =>
          inputs.map((i) => describeMessage(i, buildMessage(i, nextId))).join('\n  then '),
        summary: () =>
          `${n.messages} messages (${n.marked} with a forged validated header), stored ${n.stored} / ` +
          `dead-lettered ${n.dead} / lost ${n.lost} / both ${n.both}, controls stored ${c.stored}/${c.sent}, ` +
          `wedges ${c.wedges}; stored from bytes that were not UTF-8: ${n.notUtf8Stored} ` +
          `(dead letters: ${[...reasons].map(([k, v]) => `${k}×${v}`).join(', ')})`,
        property: async (inputs) => {
          const s = await target.fresh();
          try {
            const { tracked, controls } = await produce(s, inputs);
            const p = s.pipeline;
            const { storedAt, stored } = await outcomes(p, tracked, controls);
            const late = controls.filter((x) => !((storedAt.get(x.id) ?? Infinity) <= x.at + FUZZ.controlMs));
            c.stored += controls.length - late.length;
            if (late.length > 0) c.wedges++;
            const lost = tracked.filter((t) => !p.letters.has(`0/${t.offset}`) && !stored(t));
            n.lost += lost.length;
            const what = (t: Tracked) => `${describeMessage(t.input, t.built)} (offset ${t.offset})`;
            invariant(
              late.length === 0,
              () =>
                `wedge: ${late.length} control event(s) not stored within ${FUZZ.controlMs} ms after:\n  ${tracked.map(what).join('\n  ')}\n${pipelineState(p)}`,
            );
            invariant(
              lost.length === 0,
              () => `neither stored nor dead-lettered: ${lost.map(what).join('\n  ')}\n${pipelineState(p)}`,
            );
            for (const t of tracked) {
              const letter = p.letters.get(`0/${t.offset}`);
              const kept = stored(t);
              if (letter) {
                n.dead++;
                const kind = reasonKind(letter.reason);
                reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
              }
              if (kept) n.stored++;
              if (kept && t.built.notUtf8) n.notUtf8Stored++;
              // Stored bytes that were not UTF-8 would hold U+FFFD in place of what was sent.
              invariant(
                !(kept && t.built.notUtf8),
                () => `stored from bytes that were not UTF-8: ${what(t)}`,
              );
              invariant(
                !letter || (letter.reason.length > 0 && letter.code.length > 0),
                () => `dead letter without a reason or code: ${JSON.stringify(letter)} for ${what(t)}`,
              );
              // Both only counts for an id sent once: another message may have stored it.
              if (letter && kept && idCount.get(t.built.eventId!) === 1) {
                n.both++;
                throw new Error(`stored and dead-lettered (${letter.reason}): ${what(t)}`);
              }
            }
            invariant(p.healthy(), () => `ingester unhealthy: ${pipelineState(p)}`);
          } catch (err) {
            target.dirty = true;
            throw err;
          }
        },
      });
    },
    FUZZ_TEST_TIMEOUT_MS,
  );
});
