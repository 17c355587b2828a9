import { type Command, wantsHelp } from './command.js';
import { CliError, EXIT, EXIT_HELP } from './investigate/exit.js';
import { ALERT_FILTERS, filterQuery, positiveInt, stringOptions, TIME_FLAGS } from './investigate/filters.js';
import { renderAlert, renderAlerts, renderGroups } from './investigate/render.js';
import { CONNECTION_HELP, getJson, investigate, json, postJson } from './investigate/run.js';

// `agenttrail alerts [list|groups|show|ack|resolve]`: GET /v1/alerts, /v1/alerts/groups,
// /v1/alerts/{id}, POST /v1/alerts/{id}/acknowledge|resolve.

const HELP = `usage: agenttrail alerts [list] [filters] [--limit N] [--cursor C] [--json]
       agenttrail alerts groups [filters] [--limit N] [--json]
       agenttrail alerts show <alert_id> [--json]
       agenttrail alerts ack <alert_id> --reason "…" --api URL --key RESPONDER_KEY
       agenttrail alerts resolve <alert_id> --reason "…" --api URL --key RESPONDER_KEY

  list      alerts newest first, with their current status (firing, acknowledged, resolved)
  groups    the same filters grouped by dedup key (what pages once per window)
  show      one alert: status history (who acknowledged or resolved it and why), its evidence
            events, every delivery attempt
  ack       acknowledge: recorded with the key and its role and the reason, and produced to
            Kafka so the alerter acknowledges the PagerDuty incident; repeat-safe
  resolve   resolve: as ack, and the alerter sends PagerDuty resolve and a Slack follow-up.
            ack and resolve need a responder (or admin) key on a running API: the status
            history names the key that made the change, so direct mode cannot make one

filters (all must hold):
  --severity info|low|medium|high|critical  --rule RULE_ID  --agent ID  --task ID
  --status firing|acknowledged|resolved  --dedup-key KEY
  --from ISO  --to ISO  --since DURATION (of created_at)
  --limit N (1-1000, default 50)  --cursor C (from "next: --cursor C")

${CONNECTION_HELP}

${EXIT_HELP}`;

type Values = Record<string, string | boolean | undefined>;
const ACTIONS = ['list', 'groups', 'show', 'ack', 'resolve'] as const;

export const alertsCommand: Command = {
  summary: 'alerts: list, group, show one with its evidence, acknowledge, resolve',
  run(argv) {
    // The action is the first word unless an option comes first (then: list).
    const first = argv[0];
    const action = first && !first.startsWith('-') ? first : 'list';
    const rest = first && !first.startsWith('-') ? argv.slice(1) : argv;
    const needsId = action === 'show' || action === 'ack' || action === 'resolve';
    if (!(ACTIONS as readonly string[]).includes(action) && !wantsHelp(argv)) {
      process.stderr.write(
        `agenttrail alerts: unknown action '${action}' (list, groups, show, ack, resolve)\n`,
      );
      return Promise.resolve(EXIT.usage);
    }
    return investigate<Values>(
      {
        name: `alerts ${action}`,
        help: HELP,
        options: {
          ...stringOptions([...ALERT_FILTERS, ...TIME_FLAGS, 'limit', 'cursor', 'reason']),
        },
        positionals: needsId ? { min: 1, max: 1, what: 'one alert id' } : { min: 0, max: 0, what: '' },
      },
      rest,
      async ({ values: v, positionals, io, mode, transport }) => {
        const id = positionals[0];
        const path = id ? `/v1/alerts/${encodeURIComponent(id)}` : '/v1/alerts';
        if (action === 'ack' || action === 'resolve') {
          if (typeof v.reason !== 'string' || v.reason.trim() === '')
            throw new CliError(EXIT.usage, `${action} needs --reason "why" (kept in the status history)`);
          if (mode === 'direct')
            throw new CliError(
              EXIT.usage,
              `${action} records which key made the change: use --api URL --key <responder key>`,
            );
          const t = await transport();
          const r = await postJson<{ alert_id: string; status: string; record: Record<string, unknown> }>(
            t,
            `${path}/${action === 'ack' ? 'acknowledge' : 'resolve'}`,
            { reason: v.reason },
          );
          const rec = r.record as { type: string; at: string; by: { key_id: string; role: string } };
          io.out(
            v.json
              ? json(r)
              : `alert ${r.alert_id} is ${r.status} (${rec.type} at ${rec.at} by key ${rec.by.key_id})\n`,
          );
          return EXIT.ok;
        }
        if (v.reason !== undefined) throw new CliError(EXIT.usage, '--reason is for ack and resolve');
        const t = await transport();
        if (action === 'show') {
          const r = await getJson<Parameters<typeof renderAlert>[0]>(t, path);
          io.out(v.json ? json(r) : renderAlert(r));
          return EXIT.ok;
        }
        const query = { ...filterQuery(v, ALERT_FILTERS), limit: positiveInt(v.limit, 'limit', 1000) ?? 50 };
        if (action === 'groups') {
          if (v.cursor !== undefined) throw new CliError(EXIT.usage, 'groups has no --cursor');
          const r = await getJson<{ groups: Array<Record<string, unknown>> }>(t, '/v1/alerts/groups', query);
          io.out(v.json ? json(r) : renderGroups(r.groups));
          return EXIT.ok;
        }
        const r = await getJson<{ alerts: Array<Record<string, unknown>>; next_cursor: string | null }>(
          t,
          '/v1/alerts',
          { ...query, ...(typeof v.cursor === 'string' ? { cursor: v.cursor } : {}) },
        );
        if (v.json) io.out(json(r));
        else {
          io.out(renderAlerts(r.alerts));
          if (r.next_cursor) io.out(`next: --cursor ${r.next_cursor}\n`);
        }
        return EXIT.ok;
      },
    );
  },
};
