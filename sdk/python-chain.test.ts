import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ChainEvent, verifyChain } from '../schemas/index.js';
import { redactEvent } from '../services/platform/redaction/index.js';
import { pythonCommand, repoRoot } from '../stack/paths.js';
import { computeVectors, renderVectors } from './python-vectors.js';

// Cross-language chain test: the Python SDK (sdk/python) must seal events to byte-identical
// canonical text and hashes, and redact strings identically (the hash covers the redacted form).
// Both sides drift-checked: this SDK against the committed vectors file, Python against this
// SDK's answers (python3 runs in this test). UPDATE_VECTORS=1 rewrites the file.

const FILE = join(repoRoot, 'sdk/python/tests/vectors/chain.json');
const CHECKER = join(repoRoot, 'sdk/python/tests/check_vectors.py');
const RECORDER = join(repoRoot, 'sdk/python/tests/record_task.py');
const vectors = computeVectors();

type Answer = { name: string; hash?: string; chain_text?: string; bytes?: number; error_paths?: string[] };

function runPython(args: string[], input?: string): string {
  const r = spawnSync(pythonCommand(), args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    throw new Error(
      `${pythonCommand()} could not be run (${r.error.message}): the Python SDK's cross-language test needs Python 3.10+ (python3 on PATH, or AGENTTRAIL_PYTHON)`,
    );
  }
  if (r.status !== 0)
    throw new Error(`${pythonCommand()} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

function python(): { chain: Answer[]; random_events: Answer[]; redaction: string[] } {
  // The vectors go in on stdin: Python answers for what this SDK computes now, file or not.
  return JSON.parse(runPython([CHECKER, '-'], renderVectors(vectors)));
}

const strip = ({ event: _e, max_bytes: _m, ...rest }: Answer & { event?: unknown; max_bytes?: unknown }) =>
  rest;

describe('TypeScript ↔ Python SDK chain vectors', () => {
  it('the committed vectors are what this SDK computes (TypeScript side has not drifted)', () => {
    const text = renderVectors(vectors);
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(FILE, text);
    expect(
      readFileSync(FILE, 'utf8'),
      'stale: run UPDATE_VECTORS=1 npx vitest run sdk/python-chain.test.ts',
    ).toBe(text);
  });

  it('covers what the issue names: non-ASCII, astral, lone surrogates, large numbers, nesting, secrets', () => {
    const names = vectors.chain.map((c) => c.name);
    for (const n of [
      'non-ascii',
      'key-order-utf16',
      'lone-surrogates',
      'numbers',
      'deeply-nested',
      'secrets-encoded',
    ]) {
      expect(names).toContain(n);
    }
    expect(vectors.chain.filter((c) => c.error_paths).length).toBe(4);
    // The redaction cases do redact: a vector set of clean strings would prove little.
    expect(vectors.redaction.filter((r) => r.redacted !== r.text).length).toBeGreaterThan(40);
  });

  describe('Python answers', () => {
    const py = python();
    it.each(vectors.chain.map((c, i) => [c.name, i] as const))(
      '%s: same canonical text, hash and size',
      (_n, i) => {
        expect(py.chain[i]).toEqual(strip(vectors.chain[i]!));
      },
    );
    it('random strings as arguments (keys and values): same hashes', () => {
      const bad = vectors.random_events.filter(
        (c, i) => JSON.stringify(py.random_events[i]) !== JSON.stringify(strip(c)),
      );
      expect(bad.map((c) => c.name)).toEqual([]);
    });
    it('random strings: same redaction', () => {
      const bad = vectors.redaction.filter((r, i) => py.redaction[i] !== r.redacted);
      expect(bad.slice(0, 5)).toEqual([]);
    });
  });

  it("a task recorded by the Python SDK verifies with this side's verifier, stored as the gateway stores it", () => {
    const sent = JSON.parse(runPython([RECORDER, '300'])) as Array<ChainEvent & { data: unknown }>;
    // The gateway's keyed redaction: fingerprints go to `secrets`, outside the chain.
    const stored = sent.map((e) => {
      const { event, secrets } = redactEvent(e, { key: 'gateway-fingerprint-key' });
      return { ...event, received_at: new Date().toISOString(), secrets } as ChainEvent;
    });
    expect(sent.map((e) => e.seq)).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
    expect(JSON.stringify(stored)).not.toContain(`ghp_${'Zx9'.repeat(12)}`);
    expect(stored.filter((e) => (e.secrets as unknown[]).length > 0).length).toBe(6);
    expect(verifyChain(stored)).toEqual({ ok: true, problems: [] });
    // And it would not verify if one event were altered.
    const tampered = stored.map((e, i) =>
      i === 150 ? { ...e, seq: e.seq, occurred_at: '2026-01-01T00:00:00.000Z' } : e,
    );
    expect(verifyChain(tampered).ok).toBe(false);
  });
});
