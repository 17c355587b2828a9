import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The detector's domain (state/, rules/, baselines/, scope/) is a leaf: persistence (snapshot/)
// observes it through state/changes.ts, and neither it nor the engine's snapshot format reach
// back. A test, as the imports are the whole of the rule.

const root = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.ts') && !f.name.endsWith('.test.ts'))
    .map((f) => join(f.parentPath, f.name));
}

/** The detector-relative paths a file imports (relative specifiers only). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((m) =>
    relative(root, resolve(dirname(file), m[1]!)),
  );
}

describe('detector layering', () => {
  it('finds the imports it judges', () => {
    // The check below would pass on nothing at all: make sure it reads real imports.
    expect(imports(join(root, 'snapshot/writer.ts'))).toContain('snapshot/fragments.js');
    expect(sources('state').length).toBeGreaterThan(3);
  });

  it.each(['state', 'rules', 'baselines', 'scope'])('%s/ imports neither snapshot/ nor the engine', (dir) => {
    const offending = sources(dir).flatMap((f) =>
      imports(f)
        .filter((p) => p.startsWith('snapshot/') || p === 'engine.js' || p.startsWith('io/'))
        .map((p) => `${relative(root, f)} → ${p}`),
    );
    expect(offending).toEqual([]);
  });

  it('snapshot/ reaches the engine only from its diagnostics (inspect.ts)', () => {
    const offending = sources('snapshot').flatMap((f) =>
      imports(f)
        .filter((p) => p === 'engine.js' && !f.endsWith('inspect.ts'))
        .map((p) => `${relative(root, f)} → ${p}`),
    );
    expect(offending).toEqual([]);
  });
});
