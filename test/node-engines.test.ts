import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The declared engine is a promise to users: the oldest Node it names must satisfy what every
// installed dependency declares, or `npm ci` warns and the package may break at run time
// (cookie@2 needs Node 22 while we say 20.19).
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));

describe('declared Node engine', () => {
  const declared: string = pkg.engines.node;
  const oldest = semver.minVersion(declared)?.version ?? '';

  it('is a range with a lower bound', () => {
    expect(oldest).not.toBe('');
  });

  it('covers the Node running the tests', () => {
    expect(semver.satisfies(process.versions.node, declared)).toBe(true);
  });

  it("satisfies every installed package's engines.node at its oldest version", () => {
    const unmet = Object.entries<{ engines?: { node?: string } }>(lock.packages)
      .filter(([path, p]) => path !== '' && typeof p.engines?.node === 'string')
      .filter(([, p]) => !semver.satisfies(oldest, p.engines?.node ?? '*'))
      .map(([path, p]) => `${path} needs node ${p.engines?.node}`);
    expect(unmet).toEqual([]);
  });
});
