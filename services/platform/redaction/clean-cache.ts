/**
 * Strings seen to hold no secret, for values that repeat across events: object keys (`headers`,
 * `path`…) and the agent's envelope fields (one instance sends thousands of events). Data values
 * do not repeat enough for this to pay (see entities.ts). Holding a clean string is harmless; a
 * string that held a secret is never added. Bounded: cleared when full, which is O(1).
 */
export class CleanCache {
  private readonly seen = new Set<string>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxChars = 256,
  ) {}

  has(s: string): boolean {
    return this.seen.has(s);
  }

  add(s: string): void {
    if (s.length > this.maxChars) return;
    if (this.seen.size >= this.maxEntries) this.seen.clear();
    this.seen.add(s);
  }
}
