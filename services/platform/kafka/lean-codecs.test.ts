import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The lean codecs only take effect when loaded before kafkajs (lean-codecs.ts): a main that
// imports anything else first silently runs on kafkajs' own, slower codecs.
describe('lean codecs', () => {
  const services = join(import.meta.dirname, '..', '..');
  const mains = readdirSync(services, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(services, d.name, 'main.ts'))
    .filter((f) => existsSync(f));

  it('are the first import of every service main', () => {
    expect(mains.length).toBeGreaterThanOrEqual(5);
    for (const main of mains) {
      const first = readFileSync(main, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('import '));
      expect(first, main).toBe("import '../platform/kafka/lean-codecs.js';");
    }
  });
});
