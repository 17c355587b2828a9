import { describe, expect, it } from 'vitest';
import { AgentEvent } from '../schemas/index.js';
import { learnScope } from '../services/detector/scope/learn.js';
import { CORPUS_FAMILIES, generateCorpus } from './detection-corpus.js';

// The detection bench's corpus: valid events, labelled, reproducible from its seed.

const opts = { seed: 13, instances: 10, benignRuns: 5, learn: learnScope };

describe('detection corpus', () => {
  for (const legacy of [false, true]) {
    it(`${legacy ? 'contract 1.0' : 'contract 1.1'}: at least 300 labelled tasks of valid v1 events`, () => {
      const runs = generateCorpus({ ...opts, legacy });
      expect(runs.length).toBeGreaterThanOrEqual(300);
      expect(new Set(runs.map((r) => r.family))).toEqual(new Set(CORPUS_FAMILIES));
      for (const label of ['benign', 'attack', 'mistake'] as const)
        expect(
          runs.some((r) => r.label === label),
          label,
        ).toBe(true);
      for (const r of runs)
        for (const e of r.events)
          expect(AgentEvent.safeParse(e).success, `${r.taskId} ${e.event_id}`).toBe(true);
      const multi = runs
        .flatMap((r) => r.events)
        .filter((e) => e.type === 'action' && (e.data.targets?.length ?? 0) > 1);
      expect(multi.length > 0).toBe(!legacy);
    });
  }

  it('is the same corpus for the same seed, and another for another', () => {
    const ids = (seed: number) =>
      generateCorpus({ ...opts, seed, legacy: false })
        .map((r) => `${r.taskId}:${r.variant}:${JSON.stringify(r.events.at(-2)?.data)}`)
        .join('\n');
    expect(ids(13)).toBe(ids(13));
    expect(ids(14)).not.toBe(ids(13));
  });
});
