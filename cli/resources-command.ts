import type { Command } from './command.js';
import { CliError, EXIT, EXIT_HELP } from './investigate/exit.js';
import { stringOptions, TIME_FLAGS, timeQuery } from './investigate/filters.js';
import { renderResources } from './investigate/render.js';
import { CONNECTION_HELP, getJson, investigate, json } from './investigate/run.js';

// `agenttrail resources <glob>`: who touched a resource or destination (GET /v1/resources).

const HELP = `usage: agenttrail resources <glob> [--destination] [--from ISO] [--to ISO | --since D] [--json]

Who touched a resource (or, with --destination, an egress destination) matching a glob, across
tasks and agents, grouped by agent and task (GET /v1/resources). Globs are the scopes' syntax:
* within a segment, ** across. Quote the glob so the shell leaves it alone:
  agenttrail resources 's3://payroll/**' --since 7d

  --destination   match destinations instead of resources
  --from ISO  --to ISO  --since DURATION (30s, 15m, 1h, 7d)

${CONNECTION_HELP}

${EXIT_HELP}`;

type Values = Record<string, string | boolean | undefined>;

export const resourcesCommand: Command = {
  summary: 'who touched a resource or destination (glob), by agent and task',
  run: (argv) =>
    investigate<Values>(
      {
        name: 'resources',
        help: HELP,
        options: { ...stringOptions(TIME_FLAGS), destination: { type: 'boolean' } },
        positionals: { min: 1, max: 1, what: 'one glob (quoted)' },
      },
      argv,
      async ({ values, positionals, io, transport }) => {
        const glob = positionals[0]!;
        if (glob === '') throw new CliError(EXIT.usage, 'the glob is empty');
        const r = await getJson<Parameters<typeof renderResources>[0]>(await transport(), '/v1/resources', {
          glob,
          field: values.destination ? 'destination' : 'resource',
          ...timeQuery(values),
        });
        io.out(values.json ? json(r) : renderResources(r));
        return EXIT.ok;
      },
    ),
};
