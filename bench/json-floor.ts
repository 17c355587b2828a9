import { hash } from 'node:crypto';

// The floor a JSON-in, JSON-out intake cannot go below in this runtime: parse the request body,
// serialise each event again and SHA-256 it, in one process, nothing else. The gateway does at
// least that much per event (plus validation, redaction, HTTP and the Kafka producer), so its CPU
// per event over this floor says how much of its work is its own, on the same machine, in the
// same run.

export interface FloorResult {
  /** Median of the passes, CPU µs (user + system of this process) per event. */
  floor_us_per_event: number;
  /** Each pass's figure, for the spread. */
  passes_us_per_event: number[];
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** One pass: every body parsed, every event serialised and hashed. Returns events done. */
function pass(bodies: readonly string[]): number {
  let events = 0;
  let sink = 0;
  for (const body of bodies) {
    const items = JSON.parse(body) as unknown[];
    for (const item of items) {
      const json = JSON.stringify(item);
      // Keep the digest live so the work cannot be dropped.
      sink ^= hash('sha256', json, 'hex').charCodeAt(0);
      events++;
    }
  }
  return sink === -1 ? 0 : events;
}

/** `passes` timed passes over `bodies` (after one untimed warm-up pass). */
export function jsonFloor(bodies: readonly string[], passes = 5): FloorResult {
  pass(bodies);
  const each: number[] = [];
  for (let i = 0; i < passes; i++) {
    const t0 = cpuMicros();
    const events = pass(bodies);
    each.push((cpuMicros() - t0) / events);
  }
  const sorted = [...each].sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(2));
  return {
    floor_us_per_event: round(sorted[Math.floor(sorted.length / 2)]!),
    passes_us_per_event: each.map(round),
  };
}
