// What the demo prints at its end: the commands (and URLs) that show its attack tasks. The
// demo's API stops with the demo, so the commands are first in the direct form (straight at
// ClickHouse, which keeps running with the data), then in the API form for a running API.

export interface HintInput {
  clickhouseUrl: string;
  database: string;
  tenant: string;
  /** The demo's in-process query API (what the pages link to), up while the demo runs. */
  apiUrl: string;
  attacks: ReadonlyArray<{ name: string; taskId: string }>;
}

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
    `  export AGENTTRAIL_API_URL=http://127.0.0.1:8090`,
    `  export AGENTTRAIL_API_KEY=$(${CLI} keys create --tenant ${sh(h.tenant)} --role responder)`,
  );
  if (first) {
    out.push(`  ${CLI} timeline ${sh(first.taskId)}`);
    out.push(`  ${CLI} alerts ack <alert_id> --reason "looking into it"`);
    out.push(
      `  curl -s "$AGENTTRAIL_API_URL/v1/tasks/${encodeURIComponent(first.taskId)}?tenant=${encodeURIComponent(h.tenant)}" -H "authorization: Bearer $AGENTTRAIL_API_KEY"`,
    );
  }
  out.push('', "this run's API (the pages' links; it stops with the demo):");
  for (const a of h.attacks)
    out.push(`  ${h.apiUrl}/v1/tasks/${encodeURIComponent(a.taskId)}?tenant=${encodeURIComponent(h.tenant)}`);
  return out;
}
