import { alerterConfig } from '../services/alerter/config.js';
import { apiConfigShape } from '../services/api/config.js';
import { detectorSettings } from '../services/detector/io/settings.js';
import { gatewayConfigShape } from '../services/gateway/config.js';
import { ingesterConfig } from '../services/ingester/config.js';
import {
  type ConfigShape,
  clickhouseConfig,
  commonConfig,
  describeConfig,
  kafkaConfig,
} from '../services/platform/config.js';
import { stateDir } from '../services/platform/state-dir.js';
import { repoRoot } from '../stack/paths.js';
import { cell, type ReadmeBlock } from './readme-blocks.js';

// README's configuration reference, generated from the zod config schemas (readme-blocks.ts).

const SHARED: ConfigShape = { ...commonConfig, ...kafkaConfig, ...clickhouseConfig };
const STAGES: Array<[title: string, shape: ConfigShape]> = [
  ['Gateway', gatewayConfigShape],
  ['Ingester', ingesterConfig],
  ['Detector', detectorSettings],
  ['Alerter', alerterConfig],
  ['Query API', apiConfigShape],
];

function table(shape: ConfigShape, skip: ReadonlySet<string>): string {
  // Defaults that are paths in the state dir or the checkout are shown relative to them, so the
  // table is the same in every clone, whatever AGENTTRAIL_STATE_DIR is.
  const rows = describeConfig(shape)
    .filter((r) => !skip.has(r.name))
    .map((r) => ({
      ...r,
      default: r.default.replaceAll(`${stateDir()}/`, '<state dir>/').replaceAll(`${repoRoot}/`, ''),
    }));
  return [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| \`${r.name}\` | ${r.required ? '**required**' : r.default === '' ? '' : `\`${cell(r.default)}\``} | ${cell(r.description)} |`,
    ),
  ].join('\n');
}

export function renderConfigReference(): string {
  const shared = new Set(Object.keys(SHARED));
  const parts = [
    '**Shared by every stage** (each stage reads only the ones it uses):',
    '',
    table(SHARED, new Set()),
  ];
  for (const [title, shape] of STAGES) parts.push('', `**${title}**`, '', table(shape, shared));
  return parts.join('\n');
}

export const configReference: ReadmeBlock = { name: 'config-reference', render: renderConfigReference };
