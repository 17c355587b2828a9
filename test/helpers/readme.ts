import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.js';

/** The first ```python block after `marker` in README: examples the tests run as written. */
export function readmePythonBlock(marker: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const at = readme.indexOf(marker);
  const m = at < 0 ? null : /```python\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`README has no \`\`\`python block after "${marker}"`);
  return m[1]!;
}
