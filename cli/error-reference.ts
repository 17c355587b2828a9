import { ERRORS, WARNINGS } from '../services/platform/errors.js';
import { cell, type ReadmeBlock } from './readme-blocks.js';

// README's error table, generated from the catalogue (services/platform/errors.ts).

export function renderErrorReference(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, e]) =>
      `| \`${code}\` | ${e.seen} | ${e.seen === 'HTTP answer' ? e.status : '–'} | ${e.retriable ? 'yes' : 'no'} | ${cell(e.summary)} |`,
  );
  const warnings = Object.entries(WARNINGS).map(([code, summary]) => `| \`${code}\` | ${cell(summary)} |`);
  return [
    '| code | seen as | HTTP | retriable | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Warnings (`agenttrail rules check` and the detector log them; a file with only warnings loads):',
    '',
    '| code | meaning |',
    '| --- | --- |',
    ...warnings,
  ].join('\n');
}

export const errorReference: ReadmeBlock = { name: 'error-reference', render: renderErrorReference };
