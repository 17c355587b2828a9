import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { Readiness, WriteHealth } from '../write-health.js';
import type { KafkaClient } from './client.js';
import type { MessageHeaders } from './headers.js';
import { type Durable, OffsetTracker } from './offsets.js';

// The consumer runner: the one Kafka consume loop of every stage. A stage supplies its handler
// (what a batch of one partition becomes) and its durability point (when it completes the
// `Durable` units it took messages into, offsets.ts); the runner does the rest the same way
// everywhere: group join, batch fetch, heartbeats while the handler waits, pause and resume on
// back-pressure, commits of only what is durable, the drain on stop, and health and readiness.
//
// Offsets are committed by `commit()` (after a stage's durability point, and every
// `commitIntervalMs` when set), never automatically: kafkajs' autoCommit would commit what was
// fetched, not what is durable. A crash therefore replays everything not durable.

/** A consumed message (kafkajs' own object, passed through uncopied). */
export interface StageMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  /** Milliseconds since the epoch, as a string (Kafka's message timestamp). */
  timestamp: string;
  headers?: MessageHeaders;
}

export interface StageBatch {
  topic: string;
  partition: number;
  /** The partition's end when the batch was fetched. */
  highWatermark: string;
  messages: StageMessage[];
}

export interface BatchContext {
  /** False once the partition is no longer this member's or the runner stops: take no more. */
  owned(): boolean;
  /** The message at `offset` is taken in: durable once `unit` is done, or at once without one. */
  take(offset: string, unit?: Durable): void;
  /** Wait for `p` with intake held (back-pressure), heartbeating so the group keeps this member. */
  wait<T>(p: Promise<T>): Promise<T>;
  /** Heartbeat now; a failure (a rebalance) is logged, never thrown. Usable after the batch too. */
  heartbeat(): Promise<void>;
}

export interface Assignment {
  partitions: number[];
  /** The assigned partitions' high watermarks now (what may have been read before this join). */
  ends(): Promise<Map<number, bigint>>;
}

export interface StageHandler {
  /** One fetched batch of one partition; batches are handed over one at a time. */
  onBatch(batch: StageBatch, ctx: BatchContext): Promise<void>;
  /** The group assigned this member its partitions (each join; before their first batch). */
  onAssign?(assignment: Assignment): void;
  /**
   * After a batch: a promise while the stage has too much in hand. The batch's partition is
   * paused until it settles (kafkajs keeps the membership meanwhile), then resumed.
   */
  backlog?(): Promise<void> | undefined;
  /** At stop, after intake stopped and the batch in hand finished: make durable what is held. */
  drain?(): Promise<void>;
  /**
   * Jobs run every `everyMs` while consuming (a time-based flush, a snapshot): not once the
   * runner stops or the stage failed. A job that throws is logged and runs again next time.
   */
  timers?: Array<{ what: string; everyMs: number; run(): void | Promise<void> }>;
}

/** What a handler is given of its runner: the offsets it completes, and the way to give up. */
export interface StageControl {
  readonly tracker: OffsetTracker;
  /** Commit what is durable now (after the stage's durability point). */
  commit(): Promise<void>;
  /**
   * The stage cannot go on (what it holds can no longer be made durable in order): batches stop
   * being taken, timers stop, health and readiness fail, and the runner's `onFatal` is told, once.
   */
  fail(err: unknown): void;
  /** True once `fail` was called. */
  readonly failed: boolean;
}

/** A stage's handler, made once its runner exists (it needs the runner's tracker and commit). */
export type HandlerFactory = (control: StageControl) => StageHandler;

export interface RunnerSettings {
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  /** Default: a third of the session timeout, at most 3 s. */
  heartbeatIntervalMs?: number;
  /** How long a fetch waits for data; default 250 ms. */
  maxWaitTimeMs?: number;
  fetchMaxBytes?: number;
  fetchMaxBytesPerPartition?: number;
  /** Where a group without committed offsets starts; default the beginning. */
  fromBeginning?: boolean;
  /** Commit what is durable this often, besides `commit()` calls; default: only on `commit()`. */
  commitIntervalMs?: number;
  /**
   * Keep offsets of partitions this member lost (default: forget them, the new owner replays).
   * For a stage whose state covers every partition (the detector's snapshot records them all).
   */
  keepRevoked?: boolean;
}

export interface StageRunner {
  readonly tracker: OffsetTracker;
  start(): Promise<void>;
  /** Stop intake and wait for the batch in hand (shutdown step 1). */
  pause(): Promise<void>;
  /** Commit what is durable now; serialised, and a call made during a commit runs after it. */
  commit(): Promise<void>;
  /** Pause, drain the handler, commit, leave the group. */
  stop(): Promise<void>;
  /** Alive: not crashed, not stopped, and heartbeating (keeps its place in the group). */
  healthy(): boolean;
  /** Ready: alive, in the group, and (with `health`) the stage's writes succeed. */
  ready(): Readiness;
}

export function createStageRunner(deps: {
  kafka: KafkaClient;
  settings: RunnerSettings;
  handler: StageHandler | HandlerFactory;
  log: Logger;
  health?: WriteHealth;
  /** The handler failed for good (`StageControl.fail`): the process must stop. */
  onFatal?: (err: unknown) => void;
}): StageRunner {
  const { settings } = deps;
  const { topic } = settings;
  const log = deps.log.child({ component: 'consumer', topic });
  const heartbeatMs =
    settings.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(settings.sessionTimeoutMs / 3));
  const tracker = new OffsetTracker(topic);
  const consumer: Consumer = deps.kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: heartbeatMs,
    maxWaitTimeInMs: settings.maxWaitTimeMs ?? 250,
    ...(settings.fetchMaxBytes ? { maxBytes: settings.fetchMaxBytes } : {}),
    ...(settings.fetchMaxBytesPerPartition
      ? { maxBytesPerPartition: settings.fetchMaxBytesPerPartition }
      : {}),
    allowAutoTopicCreation: false,
  });
  const admin = deps.kafka.admin();
  let adminConnected: Promise<void> | undefined;
  let lastHeartbeat = Date.now();
  let joined = false;
  let crashed: unknown;
  let stopping = false;
  let stopped = false;
  /** `consumer.run` was called (kafkajs refuses a pause before it). */
  let running = false;
  let inBatch: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let failure: unknown;
  let failed = false;
  const control: StageControl = {
    tracker,
    commit: () => commit(),
    fail(err) {
      if (failed) return;
      failed = true;
      failure = err;
      deps.onFatal?.(err);
    },
    get failed() {
      return failed;
    },
  };
  const handler = typeof deps.handler === 'function' ? deps.handler(control) : deps.handler;

  consumer.on(consumer.events.HEARTBEAT, () => {
    lastHeartbeat = Date.now();
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    lastHeartbeat = Date.now();
    joined = true;
    const partitions = [...((e.payload.memberAssignment as Record<string, number[]>)[topic] ?? [])].sort(
      (a, b) => a - b,
    );
    if (!settings.keepRevoked) tracker.retain(partitions);
    log.info({ partitions, group: settings.groupId }, 'partitions assigned');
    handler.onAssign?.({ partitions, ends: () => ends(partitions) });
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) crashed = e.payload.error;
    log.error(
      { err: e.payload.error, restart: e.payload.restart },
      e.payload.restart ? 'Kafka consumer crashed; kafkajs restarts it' : 'Kafka consumer crashed for good',
    );
  });

  async function ends(partitions: number[]): Promise<Map<number, bigint>> {
    adminConnected ??= admin.connect();
    await adminConnected;
    const out = new Map<number, bigint>();
    for (const w of await admin.fetchTopicOffsets(topic))
      if (partitions.includes(w.partition)) out.set(w.partition, BigInt(w.high));
    return out;
  }

  async function safeHeartbeat(heartbeat: () => Promise<void>): Promise<void> {
    try {
      await heartbeat();
    } catch (err) {
      // A rebalance: the work in hand still completes; its commit may be refused, and Kafka
      // redelivers whatever was not committed.
      log.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const partition = batch.partition;
    // Resolved (kafkajs fetches on from there) before every wait and at the end rather than
    // per message: kafkajs parses the offset into a Long on each call.
    let unresolved: string | undefined;
    const resolve = () => {
      if (unresolved !== undefined) resolveOffset(unresolved);
      unresolved = undefined;
    };
    const heartbeat = () => {
      resolve();
      return safeHeartbeat(payload.heartbeat);
    };
    const ctx: BatchContext = {
      owned: () => !stopping && !failed && isRunning() && !isStale(),
      take(offset, unit) {
        tracker.take(partition, offset, unit);
        unresolved = offset;
      },
      heartbeat,
      async wait<T>(p: Promise<T>): Promise<T> {
        resolve();
        let done = false;
        const settled = p.finally(() => {
          done = true;
        });
        while (!done) {
          let t: NodeJS.Timeout | undefined;
          await Promise.race([settled.catch(() => {}), new Promise((r) => (t = setTimeout(r, heartbeatMs)))]);
          clearTimeout(t);
          if (!done) await safeHeartbeat(payload.heartbeat);
        }
        return settled;
      },
    };
    try {
      await handler.onBatch(
        { topic: batch.topic, partition, highWatermark: batch.highWatermark, messages: batch.messages },
        ctx,
      );
    } finally {
      resolve();
    }
    const room = handler.backlog?.();
    if (room) {
      const resume = payload.pause();
      const again = () => {
        if (!stopping) resume();
      };
      room.then(again, again);
    }
    await safeHeartbeat(payload.heartbeat);
  }

  let committing: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  async function commitOnce(): Promise<void> {
    const offsets = tracker.committable();
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
      for (const o of offsets) tracker.markCommitted(o.partition, o.offset);
    } catch (err) {
      // What is durable stays durable; an uncommitted range is only redelivered.
      log.warn({ err: (err as Error).message }, 'offset commit failed; the range will be redelivered');
    }
  }
  function commit(): Promise<void> {
    if (queued) return queued;
    if (!committing) {
      committing = commitOnce().finally(() => {
        committing = undefined;
      });
      return committing;
    }
    queued = committing.then(() => {
      queued = undefined;
      return commit();
    });
    return queued;
  }

  function every(ms: number, job: () => void | Promise<void>, what: string): void {
    const t = setInterval(() => {
      if (stopping || failed) return;
      Promise.resolve()
        .then(job)
        .catch((err) => {
          if (!failed) log.error({ err }, `${what} failed`);
        });
    }, ms);
    t.unref();
    timers.push(t);
  }

  async function pause(): Promise<void> {
    stopping = true;
    for (const t of timers) clearInterval(t);
    if (running && !stopped) consumer.pause([{ topic }]);
    await inBatch;
  }

  return {
    tracker,
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: settings.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        // Resolved as taken (ctx.take): a batch cut short is fetched again from there.
        eachBatchAutoResolve: false,
        eachBatch: (payload) => {
          const p = eachBatch(payload);
          inBatch = p.catch(() => {});
          return p;
        },
      });
      running = true;
      if (settings.commitIntervalMs) every(settings.commitIntervalMs, commit, 'commit');
      for (const t of handler.timers ?? []) every(t.everyMs, t.run, t.what);
      log.info({ group: settings.groupId }, 'consuming');
    },
    pause,
    commit,
    async stop() {
      if (stopped) return;
      await pause();
      await handler.drain?.();
      await commit();
      stopped = true;
      await consumer.disconnect();
      if (adminConnected) await adminConnected.then(() => admin.disconnect()).catch(() => {});
      log.info({ group: settings.groupId }, 'left the consumer group');
    },
    healthy() {
      return !crashed && !failed && !stopping && Date.now() - lastHeartbeat < settings.sessionTimeoutMs;
    },
    ready() {
      if (crashed) return { ok: false, reason: `Kafka consumer crashed: ${String(crashed).slice(0, 200)}` };
      if (failed) return { ok: false, reason: `stage failed: ${String(failure).slice(0, 200)}` };
      if (!joined) return { ok: false, reason: `not in consumer group ${settings.groupId} yet` };
      return deps.health?.readiness() ?? { ok: true };
    },
  };
}
