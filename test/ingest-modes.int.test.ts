import { readFileSync } from 'node:fs';
import type { Message } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayMessage, syntheticEvent } from '../bench/ingest-events.js';
import {
  createTopics,
  produceEvents,
  readDeadLetters,
  spawnIngester,
  waitForRows,
} from '../bench/ingest-harness.js';
import { validateEvent } from '../schemas/validate.js';
import { VALIDATED_HEADER, validatedValue } from '../services/platform/kafka/headers.js';
import { killMidStreamAndRestart } from './helpers/ingester-kill.js';
import {
  clickhouseClient,
  deleteTopic,
  dropDatabase,
  testEndpoints,
  testLogDir,
  uniqueName,
} from './helpers/stack.js';

// The two insert modes (INGESTER_INSERT_MODE) on the same topic, each into its own database:
// the rows must be byte-identical (every column but ingested_at, read back as JSONEachRow), and
// the same messages must reach each mode's DLQ with the same reason. The topic mixes the
// gateway's ordinary events with the cases where ClickHouse's own JSON handling could differ
// from the rows path's (non-ASCII, escapes, big integers, integer-like keys, U+2028, times),
// a missing received_at, secrets/entities, unmarked events and poison.

const LOG_DIR = testLogDir('ingest-modes');
const cleanup: string[] = [];
afterAll(async () => {
  for (const db of cleanup) {
    await dropDatabase(db);
    await deleteTopic(`${db}.dlq`).catch(() => {});
  }
});

const MARK = { [VALIDATED_HEADER]: validatedValue(undefined) };
const FP = 'a1b2c3d4e5f60718';

/** A marked message of event `i` of `run`, with `edit` applied to the validated event's JSON text. */
function marked(run: string, i: number, edit: (json: string) => string, key = `${run}-special`): Message {
  return { key, value: edit(gatewayMessage(run, i).value), headers: MARK };
}

/** A validated event (zod defaults applied) changed by `change`, marked as the gateway would. */
function markedEvent(run: string, i: number, change: (e: Record<string, unknown>) => void): Message {
  const e = structuredClone(syntheticEvent(run, i)) as unknown as Record<string, unknown>;
  change(e);
  const r = validateEvent(e);
  if (!r.ok) throw new Error(`special event ${i} is invalid: ${JSON.stringify(r.errors)}`);
  return { key: `${run}-special`, value: JSON.stringify(r.value), headers: MARK };
}

function specials(run: string): { stored: Message[]; poison: Message[] } {
  const base = 1_000_000;
  const data = (e: Record<string, unknown>) => e.data as Record<string, unknown>;
  const stored: Message[] = [
    // Non-ASCII as UTF-8 bytes, and the same characters written as \u escapes.
    markedEvent(run, base + 1, (e) => {
      data(e).resource = 'github:acme/rép-日本/😀';
      (data(e).arguments as Record<string, unknown>).q = 'café – 日本語 😀 \u007f';
    }),
    marked(run, base + 2, (j) => j.replace('"ref":"main"', '"ref":"caf\\u00e9 \\ud83d\\ude00 \\/ \\u0001"')),
    // U+2028 as a raw character (ClickHouse would escape it when re-serialising).
    markedEvent(run, base + 3, (e) => {
      (data(e).arguments as Record<string, unknown>).q = 'line\u2028sep\u2029end';
    }),
    // Integers JavaScript cannot hold exactly, a huge one, exponents, an integer-like key.
    marked(run, base + 4, (j) => j.replace('"limit":50', '"limit":12345678901234567890')),
    marked(run, base + 5, (j) => j.replace('"limit":50', '"limit":9007199254740993,"big":1e400')),
    marked(run, base + 6, (j) => j.replace('"limit":50', '"limit":1.5e-7,"f":2E3,"g":1.0,"h":-0')),
    marked(run, base + 7, (j) => j.replace('"limit":50', '"limit":50,"2":"two","1":"one"')),
    // Whitespace and key order as a non-JavaScript producer would write them.
    marked(run, base + 8, (j) => j.replace('"ref":"main",', '"ref" : "main" ,\t')),
    // No received_at: the Kafka timestamp stands in.
    markedEvent(run, base + 9, (e) => {
      e.received_at = undefined;
    }),
    // received_at with an offset (the rows path converts it with Date).
    markedEvent(run, base + 10, (e) => {
      e.received_at = '2026-11-01T12:00:00.5+02:00';
    }),
    // Secrets and entities (the gateway's sightings).
    markedEvent(run, base + 11, (e) => {
      e.secrets = [{ kind: 'github_token', path: 'data.arguments.token', fp: FP }];
      e.entities = [
        { kind: 'email', path: 'data.arguments.to', fp: `${FP}00` },
        { kind: 'host', path: 'data.destination', fp: `${FP}11` },
      ];
    }),
    // Optional envelope fields null (the rows path stores NULL, as for absent).
    marked(run, base + 12, (j) => j.replace('"prev_hash":', '"trace_id":null,"span_id":null,"prev_hash":')),
    // Other event types (task.declared is in the stream already).
    markedEvent(run, base + 13, (e) => {
      e.type = 'task.ended';
      e.data = { outcome: 'completed', summary: 'done' };
    }),
    markedEvent(run, base + 14, (e) => {
      e.type = 'credential.issued';
      e.data = {
        credential_id: 'cred-x',
        kind: 'oauth_token',
        scopes: ['repo:read'],
        expires_at: '2026-12-01T00:00:00Z',
      };
    }),
    // A lone surrogate inside `data` (stored as text, unparsed, by the rows path).
    marked(run, base + 16, (j) => j.replace('"ref":"main"', '"ref":"\\ud800"')),
    // Unmarked: the full schema in both modes.
    { key: `${run}-special`, value: JSON.stringify(syntheticEvent(run, base + 15)) },
  ];
  const poison: Message[] = [
    { key: 'p', value: '{"not json', headers: MARK },
    { key: 'p', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: MARK },
    { key: 'p', value: '', headers: MARK },
    marked(run, base + 20, (j) => j.replace('"seq":', '"seq":0,"x":')),
    marked(run, base + 21, (j) => j.replace(/"tenant":"[^"]*"/, '"tenant":"Bad Tenant"')),
    // Values ClickHouse's parser would convert rather than refuse: a quoted seq, a string data.
    marked(run, base + 23, (j) => j.replace(/"seq":(\d+)/, '"seq":"$1"')),
    marked(run, base + 24, (j) => j.replace(/"data":\{/, '"data":"{}","x":{')),
    // A lone surrogate in a column ClickHouse parses: refused by ClickHouse in both modes.
    marked(run, base + 22, (j) => j.replace(/"tool":"[^"]*"/, '"tool":"x\\ud800"')),
    // Two objects in one message, the second looking like an input-mode line (on one line, and
    // on two, which input mode does not splice).
    { key: 'p', value: '{"a":1}}{"n":1,"ts":1,"e":{"b":2}', headers: MARK },
    { key: 'p', value: '{"a":1}}\n{"n":1,"ts":1,"e":{"b":2}', headers: MARK },
    { key: 'p', value: JSON.stringify({ event_id: 'unmarked-bad', schema_version: 1 }) },
  ];
  return { stored, poison };
}

/** Rows ClickHouse derived from message bytes, by the ingester's `flushed` log lines. */
function inputDerivedRows(logFile: string): number {
  let n = 0;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"flushed"')) continue;
    n += (JSON.parse(line) as { derived?: number }).derived ?? 0;
  }
  return n;
}

describe('ingester insert modes', () => {
  it('rows and input store byte-identical rows and dead-letter the same messages', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const name = uniqueName('it_ingest_modes');
    const topic = `${name}.events`;
    const events = 3_000;
    const { stored, poison } = specials(name);
    await createTopics(brokers, [topic], 3);
    cleanup.push(`${name}_rows`, `${name}_input`);
    // Specials spread through the stream, so they share batches with ordinary events.
    const extras = [...stored, ...poison];
    const every = Math.floor(events / extras.length);
    await produceEvents({
      brokers,
      topic,
      run: name,
      from: 0,
      to: events,
      asGateway: true,
      extra: (i) => (i % every === every - 1 && extras.length > 0 ? [extras.shift()!] : []),
    });
    expect(extras).toHaveLength(0);
    const expected = events + stored.length;

    const ch = clickhouseClient();
    const dumps: Record<string, string> = {};
    const letters: Record<string, string[]> = {};
    const derived: Record<string, number> = {};
    try {
      for (const mode of ['rows', 'input']) {
        const database = `${name}_${mode}`;
        const dlqTopic = `${database}.dlq`;
        await createTopics(brokers, [dlqTopic], 1);
        const ingester = spawnIngester({
          brokers,
          clickhouseUrl,
          database,
          topic,
          dlqTopic,
          logDir: LOG_DIR,
          name: database,
          env: { INGESTER_INSERT_MODE: mode, INGESTER_FLUSH_INTERVAL_MS: '200', LOG_LEVEL: 'debug' },
        });
        try {
          const counts = await waitForRows(ch, database, expected, 90_000);
          expect(counts.distinct).toBe(expected);
          const seen = await readDeadLetters(brokers, dlqTopic, poison.length);
          letters[mode] = seen
            .map((l) =>
              JSON.stringify([
                l.value,
                l.headers['x-agenttrail-reason'],
                l.headers['x-agenttrail-code'],
                l.headers['x-agenttrail-clickhouse-code'],
                l.headers['x-agenttrail-source'],
                l.headers['x-agenttrail-event-id'],
              ]),
            )
            .sort();
          expect(ingester.exited()).toBeUndefined();
        } finally {
          ingester.child.kill('SIGTERM');
          await ingester.waitExit().catch(() => ingester.child.kill('SIGKILL'));
        }
        const rs = await ch.query({
          query: 'SELECT * EXCEPT ingested_at FROM {db:Identifier}.events FINAL ORDER BY event_id',
          query_params: { db: database },
          format: 'JSONEachRow',
        });
        dumps[mode] = await rs.text();
        derived[mode] = inputDerivedRows(ingester.logFile);
      }
    } finally {
      await ch.close();
      await deleteTopic(topic).catch(() => {});
    }

    // Input mode really let ClickHouse derive the rows (not everything through the rows path).
    expect(derived.rows).toBe(0);
    expect(derived.input).toBeGreaterThanOrEqual(events);
    const rows = dumps.rows!.trimEnd().split('\n');
    expect(rows).toHaveLength(expected);
    // Line by line first, for a readable failure; then the whole text, byte for byte.
    const input = dumps.input!.trimEnd().split('\n');
    for (const [i, line] of rows.entries()) expect(input[i], `row ${i}`).toBe(line);
    expect(dumps.input).toBe(dumps.rows);
    // The cases are really in there (JSONEachRow output writes '/' as '\\/').
    const text = dumps.rows!;
    for (const needle of [
      'rép-日本\\/😀',
      '12345678901234567000', // JavaScript's reading of 12345678901234567890
      '"secret_kinds":["github_token"]',
      '"entity_kinds":["email","host"]',
      '"type":"task.ended"',
      '"type":"credential.issued"',
    ])
      expect(text.includes(needle), needle).toBe(true);
    expect(letters.input).toEqual(letters.rows);
    expect(letters.rows).toHaveLength(poison.length);
    // Each poison message is there with a reason from the rows path's vocabulary.
    expect(letters.rows!.join('\n')).toContain('AT_ERR_CLICKHOUSE_REJECTED');
    expect(letters.rows!.join('\n')).toContain('AT_ERR_MESSAGE_POISON');
  });
});

describe('ingester in input mode killed with SIGKILL mid-stream', () => {
  it('still stores exactly 60,000 distinct marked events after a restart', async () => {
    const { brokers, clickhouseUrl } = testEndpoints();
    const database = uniqueName('it_ingest_input_kill');
    cleanup.push(database);
    const topic = `${database}.events`;
    const dlqTopic = `${database}.dlq`;
    const events = 60_000;
    await createTopics(brokers, [topic, dlqTopic], 6);
    const opts = {
      brokers,
      clickhouseUrl,
      database,
      topic,
      dlqTopic,
      logDir: LOG_DIR,
      env: {
        INGESTER_INSERT_MODE: 'input',
        LOG_LEVEL: 'debug',
        // Small batches: many insert/commit cycles, so the kill lands between an insert and its
        // commit often (ingester-crash.int.test.ts, for the rows path).
        INGESTER_FLUSH_MAX_ROWS: '3000',
        INGESTER_SESSION_TIMEOUT_MS: '6000',
        INGESTER_HEARTBEAT_INTERVAL_MS: '1000',
      },
    };
    const producing = produceEvents({
      brokers,
      topic,
      run: database,
      from: 0,
      to: events,
      ratePerS: 20_000,
      asGateway: true,
    });
    const { before, after } = await killMidStreamAndRestart({
      ingester: opts,
      producing,
      events,
      killAfterRows: 15_000,
      async afterRestart(second) {
        // The restarted ingester derived its rows in ClickHouse (not through the rows path).
        second.child.kill('SIGTERM');
        expect((await second.waitExit()).code).toBe(0);
        expect(inputDerivedRows(second.logFile)).toBeGreaterThan(0);
      },
    });
    console.info(`input mode, kill -9 at ${before.raw} rows stored; after restart: ${JSON.stringify(after)}`);
  });
});
