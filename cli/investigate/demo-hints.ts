// What the demo prints at its end: the commands (and URLs) that show its attack tasks. The
// demo's API stops with the demo, so the commands are first in the direct form (straight at
// ClickHouse, which keeps running with the data), then in the API form for a running API, and
// the console URL of the first attack task (services/platform/timeline-link.ts).

import { consoleTaskLink, timelineLink } from '../../services/platform/timeline-link.js';

export interface HintInput {
  clickhouseUrl: string;
  database: string;
  tenant: string;
  /** The demo's in-process query API (what the pages link to), up while the demo runs. */
  apiUrl: string;
  attacks: ReadonlyArray<{ name: string; taskId: string }>;
}

/** The attack stories in the order the demo ran them; the first is the one its console URL opens. */
export function attackTasks(
  stories: ReadonlyArray<{ name: string; taskId: string; kind: 'attack' | 'benign' }>,
): Array<{ name: string; taskId: string }> {
  return stories.filter((s) => s.kind === 'attack').map(({ name, taskId }) => ({ name, taskId }));
}

/** The API the hints tell the reader to start on the demo's database. */
const LOCAL_API = 'http://127.0.0.1:8090';
const CONSOLE_NOTE = '   # a browser; sign in with a key of the tenant';

const sh = (s: string) => (/^[A-Za-z0-9._:@/+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const CLI = 'node bin/agenttrail.mjs';

export function investigateHints(h: HintInput): string[] {
  const first = h.attacks[0];
  const out = [
    `after the demo, straight at ClickHouse (the data stays in ${h.database}):`,
    `  export CLICKHOUSE_URL=${sh(h.clickhouseUrl)} CLICKHOUSE_DATABASE=${sh(h.database)}`,
    `  ${CLI} alerts --tenant ${sh(h.tenant)} --since 1h`,
  ];
  for (const a of h.attacks)
    out.push(`  ${CLI} timeline --tenant ${sh(h.tenant)} ${sh(a.taskId)}   # ${a.name}`);
  if (first) {
    out.push(`  ${CLI} verify --tenant ${sh(h.tenant)} ${sh(first.taskId)}     # exit 0: chain verified`);
    out.push(
      `  ${CLI} export task --tenant ${sh(h.tenant)} ${sh(first.taskId)} --output ${sh(`${first.name}.ndjson`)}`,
    );
  }
  out.push(
    `  ${CLI} history --tenant ${sh(h.tenant)} --since 1h    # also: resources 'k8s:**', alerts show <id>`,
    '',
    `with a query API on ${h.database} (CLICKHOUSE_DATABASE=${sh(h.database)} node --import tsx services/api/main.ts):`,
    `  export AGENTTRAIL_API_URL=${LOCAL_API}`,
    `  export AGENTTRAIL_API_KEY=$(${CLI} keys create --tenant ${sh(h.tenant)} --role responder)`,
  );
  if (first) {
    out.push(`  ${CLI} timeline ${sh(first.taskId)}`);
    out.push(`  ${CLI} alerts ack <alert_id> --reason "looking into it"`);
    out.push(
      `  curl -s "${timelineLink('$AGENTTRAIL_API_URL', h.tenant, first.taskId)}" -H "authorization: Bearer $AGENTTRAIL_API_KEY"`,
    );
    out.push(`  ${consoleTaskLink(LOCAL_API, h.tenant, first.taskId)}${CONSOLE_NOTE}`);
  }
  out.push('', "this run's API (the pages' links; it stops with the demo):");
  for (const a of h.attacks) out.push(`  ${timelineLink(h.apiUrl, h.tenant, a.taskId)}`);
  if (first) out.push(`  ${consoleTaskLink(h.apiUrl, h.tenant, first.taskId)}${CONSOLE_NOTE}`);
  return out;
}

/**
 * The console URL among the printed hints for the API at `apiUrl` (what a reader of the demo's
 * output would open; the browser test opens exactly this).
 */
export function consoleUrlOf(lines: readonly string[], apiUrl: string): string {
  const prefix = `${apiUrl.replace(/\/+$/, '')}/console/#/tasks/`;
  const line = lines.map((l) => l.trim()).find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no console URL for ${apiUrl} in the demo's hints`);
  return line.split(/\s/)[0]!;
}
