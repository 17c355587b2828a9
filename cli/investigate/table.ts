// Human output: aligned columns, and every recorded value made safe for a terminal. Agents
// write what the record holds (tool names, resources, reasons), so a value could carry escape
// sequences that rewrite the screen; control characters are shown escaped, never sent raw.

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export const clean = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
};

export function truncate(s: string, max: number): string {
  return [...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`;
}

/**
 * Columns padded to their widest cell, the last left ragged. Not truncated by default: the ids
 * in them are what the next command is given (`timeline <task>`, `alerts show <id>`).
 */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
  max = Number.POSITIVE_INFINITY,
): string {
  const cells = rows.map((r) => r.map((c) => clean(c)));
  const widths = headers.map((h, i) =>
    Math.min(max, Math.max(h.length, ...cells.map((r) => [...(r[i] ?? '')].length))),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : truncate(c, widths[i]!).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}
