import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCell, csvHeader, csvLine, negotiateFormat } from './format.js';

describe('export formats', () => {
  it('negotiates ?format first, then Accept, NDJSON by default', () => {
    expect(negotiateFormat('csv', 'application/x-ndjson')).toBe('csv');
    expect(negotiateFormat(undefined, 'text/csv')).toBe('csv');
    expect(negotiateFormat(undefined, undefined)).toBe('ndjson');
  });

  it('quotes CSV cells and neutralises spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell(undefined)).toBe('');
  });

  it('writes one row per event with every column', () => {
    const line = csvLine({
      event_id: 'e1',
      seq: 3,
      type: 'action',
      tenant: 'acme',
      task_id: 't',
      agent: { id: 'bot' },
      data: { tool: 'erp.read', operation: 'read', data_classes: ['pii', 'internal'], outcome: 'ok' },
    });
    expect(csvHeader().trim().split(',')).toEqual([...CSV_COLUMNS]);
    const cells = line.trim().split(',');
    expect(cells.slice(0, 6)).toEqual(['e1', 'acme', 't', '', '3', 'action']);
    expect(line).toContain('pii;internal');
  });
});
