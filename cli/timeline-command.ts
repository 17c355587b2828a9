import type { Timeline } from '../services/api/timeline/assemble.js';
import type { Command } from './command.js';
import { EXIT, EXIT_HELP } from './investigate/exit.js';
import { CONNECTION_HELP, getJson, investigate, json } from './investigate/run.js';
import { renderTimeline } from './investigate/timeline-render.js';

// `agenttrail timeline <task>`: the task timeline (GET /v1/tasks/{task}), rendered as the demo
// renders it.

const HELP = `usage: agenttrail timeline <task> [--json]

A task reconstructed from the record (GET /v1/tasks/{task}): the declared intent and scope and
who declared it, scope changes and their approvals, credentials issued, used and revoked,
approvals, every event in seq order (✗ where an action left scope, with the rules it broke),
delegation parent and children (each scope checked as a subset), the alerts, and the hash
chain verified with a verdict a responder can quote. \`agenttrail verify <task>\` prints only
the verdict and exits non-zero when it is not verified.

${CONNECTION_HELP}

${EXIT_HELP}`;

export function timelinePath(task: string): string {
  return `/v1/tasks/${encodeURIComponent(task)}`;
}

export const timelineCommand: Command = {
  summary: "a task's timeline: intent, scope, approvals, credentials, every event judged, chain verdict",
  run: (argv) =>
    investigate<{ json?: boolean }>(
      { name: 'timeline', help: HELP, options: {}, positionals: { min: 1, max: 1, what: 'one task id' } },
      argv,
      async ({ values, positionals, io, transport }) => {
        const t = await getJson<Timeline>(await transport(), timelinePath(positionals[0]!));
        io.out(values.json ? json(t) : `${renderTimeline(t).join('\n')}\n`);
        return EXIT.ok;
      },
    ),
};
