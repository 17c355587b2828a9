import type { Timeline } from '../services/api/timeline/assemble.js';
import type { Command } from './command.js';
import { EXIT, EXIT_HELP } from './investigate/exit.js';
import { CONNECTION_HELP, getJson, investigate, json } from './investigate/run.js';
import { chainLines } from './investigate/timeline-render.js';
import { timelinePath } from './timeline-command.js';

// `agenttrail verify <task>`: the chain verdict the API computes (the timeline's `chain`), as an
// exit status a script or a runbook can branch on.

const HELP = `usage: agenttrail verify <task> [--require-ended] [--json]

Verify a task's record: every stored event's SHA-256 hash and prev_hash link recomputed
(schemas/chain.ts, server-side, as GET /v1/tasks/{task} does) and its seqs checked for gaps.
Prints the verdict sentence; exits 0 only when the chain is VERIFIED (complete and untampered
as stored), 1 when it is INCOMPLETE (seq gaps) or TAMPERED (altered content, broken links,
unhashed or unreadable events).

  --require-ended  also exit 1 when the task has not recorded its end (events after the last
                   stored one may be missing)
  --json           the verdict object ({ status, ok, gaps, altered, broken_links, …, sentence })

${CONNECTION_HELP}

${EXIT_HELP}`;

export const verifyCommand: Command = {
  summary: "verify a task's hash chain and seqs; exit 1 when broken or incomplete",
  run: (argv) =>
    investigate<{ json?: boolean; 'require-ended'?: boolean }>(
      {
        name: 'verify',
        help: HELP,
        options: { 'require-ended': { type: 'boolean' } },
        positionals: { min: 1, max: 1, what: 'one task id' },
      },
      argv,
      async ({ values, positionals, io, transport }) => {
        const t = await getJson<Timeline>(await transport(), timelinePath(positionals[0]!));
        const v = t.chain;
        io.out(values.json ? json(v) : `${chainLines(v, v.ended).join('\n')}\n`);
        const sound = v.ok && (!values['require-ended'] || v.ended);
        if (!sound && values['require-ended'] && v.ok && !values.json)
          io.err('agenttrail verify: the task has not recorded its end (--require-ended)\n');
        return sound ? EXIT.ok : EXIT.failed;
      },
    ),
};
