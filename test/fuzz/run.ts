import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import fc from 'fast-check';
import { statePath } from '../../services/platform/state-dir.js';

// How a fuzz target runs: fast-check settings from the environment, one summary line per
// target (printed, and written to the state dir's test-logs), and a failure report that says
// how to replay it.
//
//   FUZZ_RUNS           property runs per target (each sends 1-4 inputs); default 60 (~10 s)
//   FUZZ_SEED           default fixed, so `npm test` is reproducible; any integer to explore
//   FUZZ_PATH           with FUZZ_SEED: replay one counterexample (printed on failure)
//   FUZZ_TIME_LIMIT_MS  stop generating and shrinking after this long (default: by FUZZ_RUNS)
//   FUZZ_CONTROL_MS     how soon a control event sent after an input must be stored (5000)
//   FUZZ_SHRINK=0       report the first counterexample without shrinking it

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw}: must be an integer`);
  return n;
}

const runs = int('FUZZ_RUNS', 60);
export const FUZZ = {
  runs,
  seed: int('FUZZ_SEED', 101_010),
  path: process.env.FUZZ_PATH || undefined,
  // Shrinking re-runs a failing input against a fresh pipeline: seconds each, so it is capped.
  timeLimitMs: int('FUZZ_TIME_LIMIT_MS', 60_000 + runs * 500),
  controlMs: int('FUZZ_CONTROL_MS', 5_000),
  shrink: process.env.FUZZ_SHRINK !== '0',
};

/** The vitest timeout of one target: its time limit, plus set-up and teardown. */
export const FUZZ_TEST_TIMEOUT_MS = FUZZ.timeLimitMs + 120_000;

/** Where summary lines go: the state dir (AGENTTRAIL_STATE_DIR, else .state/) / test-logs/fuzz. */
export const reportFile = (): string => statePath('test-logs', 'fuzz', 'summary.log');

export interface Target<T> {
  name: string;
  /** The file to rerun, for the replay line. */
  file: string;
  arbitrary: fc.Arbitrary<T>;
  /** Run first, every time: the known poison classes stay covered however few the runs. */
  examples?: T[];
  /** Throws when an invariant does not hold. */
  property: (input: T) => Promise<void>;
  /** The figures so far (inputs, status classes, stored, controls, wedges). */
  summary: () => string;
  /** The counterexample as sent, bounded for a report. */
  describe: (input: T) => string;
}

export async function runTarget<T>(t: Target<T>): Promise<void> {
  const started = Date.now();
  // The time limit abandons a run without stopping it: wait for it before the caller tears down.
  let current: Promise<unknown> = Promise.resolve();
  const property = (input: T) => {
    const p = t.property(input);
    current = p.catch(() => {});
    return p;
  };
  const details = await fc.check(fc.asyncProperty(t.arbitrary, property), {
    numRuns: FUZZ.runs,
    seed: FUZZ.seed,
    path: FUZZ.path,
    endOnFailure: !FUZZ.shrink,
    // A replayed path indexes the runs as they were generated, examples included.
    examples: (t.examples ?? []).map((e) => [e] as [T]),
    plugins: [fc.interruptAfterTimeLimit(FUZZ.timeLimitMs)],
  });
  await Promise.race([current, new Promise((r) => setTimeout(r, 30_000))]);
  const cut =
    details.interrupted && !details.failed ? ` (time limit: ${details.numRuns} of ${FUZZ.runs} runs)` : '';
  const line =
    `fuzz ${t.name}: ${t.summary()}; seed ${details.seed}, ${details.numRuns} runs${cut}, ` +
    `${details.numShrinks} shrinks, ${((Date.now() - started) / 1000).toFixed(1)} s`;
  console.log(line);
  const file = reportFile();
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${new Date().toISOString()} ${line}${details.failed ? ' FAILED' : ''}\n`);
  if (!details.failed) return;

  const input = (details.counterexample as [T] | null)?.[0];
  const err = details.errorInstance as Error | undefined;
  const report = [
    `fuzz ${t.name} failed after ${details.numRuns} runs and ${details.numShrinks} shrinks${details.interrupted ? ' (shrinking cut by the time limit)' : ''}:`,
    `  ${err?.message ?? String(details.errorInstance)}`,
    `counterexample: ${input === undefined ? '(none)' : t.describe(input)}`,
    `replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run --project integration ${t.file}`,
  ].join('\n');
  appendFileSync(file, `${report}\n`);
  throw new Error(report);
}

/** Fails the run with `message` when `ok` is false (property code reads as a list of invariants). */
export function invariant(ok: boolean, message: () => string): asserts ok {
  if (!ok) throw new Error(message());
}
