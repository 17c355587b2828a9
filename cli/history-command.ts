import type { Command } from './command.js';
import { EXIT, EXIT_HELP } from './investigate/exit.js';
import {
  filterQuery,
  HISTORY_FILTER_HELP,
  HISTORY_FILTERS,
  positiveInt,
  stringOptions,
  TIME_FLAGS,
} from './investigate/filters.js';
import { renderEvents } from './investigate/render.js';
import { CONNECTION_HELP, getJson, investigate, json } from './investigate/run.js';

// `agenttrail history`: the agent history (GET /v1/events, /v1/events/count), newest first.

const HELP = `usage: agenttrail history [filters] [--limit N] [--cursor C | --all] [--count] [--json]

What agents did, newest first: GET /v1/events with the same filters and semantics.
e.g. agenttrail history --agent deploy-bot --since 1h

${HISTORY_FILTER_HELP}

  --limit N    events per page (1-1000, default 50)
  --cursor C   the page after the one that printed "next: --cursor C" (same filters)
  --all        follow every page (for large results prefer agenttrail export)
  --count      only how many events match (GET /v1/events/count)

${CONNECTION_HELP}

${EXIT_HELP}`;

type Values = Record<string, string | boolean | undefined>;

export const historyCommand: Command = {
  summary: 'what agents did: events by agent, task, tool, resource, time … (newest first)',
  run: (argv) =>
    investigate<Values>(
      {
        name: 'history',
        help: HELP,
        options: {
          ...stringOptions([...HISTORY_FILTERS, ...TIME_FLAGS, 'limit', 'cursor']),
          all: { type: 'boolean' },
          count: { type: 'boolean' },
        },
      },
      argv,
      async ({ values: v, io, transport }) => {
        const filters = filterQuery(v, HISTORY_FILTERS);
        const limit = positiveInt(v.limit, 'limit', 1000) ?? 50;
        const t = await transport();
        if (v.count) {
          const r = await getJson<{ count: number }>(t, '/v1/events/count', filters);
          io.out(v.json ? json(r) : `${r.count}\n`);
          return EXIT.ok;
        }
        type Page = { events: Array<Record<string, unknown>>; next_cursor: string | null };
        let cursor = typeof v.cursor === 'string' ? v.cursor : undefined;
        const events: Page['events'] = [];
        let next: string | null;
        do {
          const page = await getJson<Page>(t, '/v1/events', { ...filters, limit, cursor });
          events.push(...page.events);
          next = page.next_cursor;
          cursor = next ?? undefined;
        } while (v.all && next);
        if (v.json) io.out(json({ events, next_cursor: next }));
        else {
          io.out(renderEvents(events));
          if (next) io.out(`next: --cursor ${next}\n`);
        }
        return EXIT.ok;
      },
    ),
};
