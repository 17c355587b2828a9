const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s` → 30000. Numbers are milliseconds. Input is already schema-checked. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`bad duration '${value}'`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
