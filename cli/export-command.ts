import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from './command.js';
import { CliError, EXIT, EXIT_HELP } from './investigate/exit.js';
import {
  filterQuery,
  HISTORY_FILTER_HELP,
  HISTORY_FILTERS,
  stringOptions,
  TIME_FLAGS,
} from './investigate/filters.js';
import { ExportProgress } from './investigate/progress.js';
import { CONNECTION_HELP, investigate, ok } from './investigate/run.js';
import { clean } from './investigate/table.js';
import { timelinePath } from './timeline-command.js';

// `agenttrail export`: a history query (GET /v1/events/export) or one task with its chain
// verdict (GET /v1/tasks/{task}/export), streamed to a file or stdout as the API sends it, with
// progress on stderr. Nothing is held in memory but the last line (the verdict).

const HELP = `usage: agenttrail export [events] [filters] [--format ndjson|csv] [--output FILE] [--quiet]
       agenttrail export task <task> [--format ndjson|csv] [--output FILE] [--quiet]

  events   every event matching the filters, oldest first (GET /v1/events/export)
  task     one task's events in seq order, the hash chain verified as they stream; the
           verdict is the last line (NDJSON {"chain_verdict": …}, CSV "# chain_verdict: …")
           and is repeated on stderr (GET /v1/tasks/{task}/export)

${HISTORY_FILTER_HELP}

  --format ndjson|csv  default ndjson (one event per line, lossless); CSV cells a spreadsheet
                       would run as a formula are prefixed with '
  --output FILE        write there (default: stdout)
  --quiet              no progress on stderr

An export cut short (the API or ClickHouse failed midway) has no rows trailer and, for a task,
no verdict line: it exits 1 with a message, whatever was written stays.

${CONNECTION_HELP}

${EXIT_HELP}`;

type Values = Record<string, string | boolean | undefined>;

async function copy(body: AsyncIterable<Buffer | string>, out: Writable, progress: ExportProgress) {
  let tail = '';
  // A reader that goes away (`| head`) or a full disk ends the copy, and with it the read.
  let failed: Error | undefined;
  // (A failure while waiting for 'drain' rejects that wait: events.once.)
  const onError = (err: Error) => {
    failed = err;
  };
  out.on('error', onError);
  try {
    for await (const c of body) {
      if (failed) throw failed;
      tail = await write(c, out, progress, tail);
    }
    if (failed) throw failed;
  } finally {
    out.off('error', onError);
  }
  return tail;
}

async function write(c: Buffer | string, out: Writable, progress: ExportProgress, prev: string) {
  const buf = typeof c === 'string' ? Buffer.from(c) : c;
  progress.chunk(buf);
  if (!out.write(buf)) await once(out, 'drain');
  // The last line is the verdict of a task export: keep enough of the end to find it.
  return (prev + buf.toString('utf8')).slice(-65_536);
}

/** The chain verdict line of a task export (NDJSON or CSV), if the body ended with one. */
export function verdictOf(tail: string): { status: string; sentence: string } | undefined {
  const last = tail.trimEnd().split('\n').at(-1)?.replace(/\r$/, '') ?? '';
  if (last.startsWith('{"chain_verdict"')) {
    try {
      const v = (JSON.parse(last) as { chain_verdict: { status: string; sentence: string } }).chain_verdict;
      return { status: v.status, sentence: v.sentence };
    } catch {
      return undefined;
    }
  }
  const m = /^# chain_verdict: ([a-z_]+): (.*)$/.exec(last);
  return m ? { status: m[1]!, sentence: m[2]! } : undefined;
}

export const exportCommand: Command = {
  summary: 'export a history query or a task (with its chain verdict) as NDJSON or CSV, streamed',
  run(argv) {
    const kind = argv[0] === 'task' || argv[0] === 'events' ? argv[0] : 'events';
    const rest = argv[0] === kind ? argv.slice(1) : argv;
    return investigate<Values>(
      {
        name: `export ${kind}`,
        help: HELP,
        options: {
          ...stringOptions([...HISTORY_FILTERS, ...TIME_FLAGS, 'format', 'output']),
          quiet: { type: 'boolean' },
        },
        positionals: kind === 'task' ? { min: 1, max: 1, what: 'one task id' } : { min: 0, max: 0, what: '' },
      },
      rest,
      async ({ values: v, positionals, io, transport }) => {
        const format = v.format ?? 'ndjson';
        if (format !== 'ndjson' && format !== 'csv')
          throw new CliError(EXIT.usage, '--format is ndjson or csv');
        if (v.json)
          throw new CliError(EXIT.usage, 'an export is NDJSON or CSV already (--format); no --json');
        const task = positionals[0];
        if (task !== undefined && Object.keys(filterQuery(v, HISTORY_FILTERS)).length > 0)
          throw new CliError(EXIT.usage, 'export task takes no filters: it is the whole task');
        const path = task !== undefined ? `${timelinePath(task)}/export` : '/v1/events/export';
        const query = task !== undefined ? { format } : { ...filterQuery(v, HISTORY_FILTERS), format };
        const t = await transport();
        const reply = await ok(await t.request('GET', path, { query }), t.target);

        const file = typeof v.output === 'string' ? v.output : undefined;
        const out = file ? createWriteStream(file) : process.stdout;
        const progress = new ExportProgress(io.err, {
          tty: process.stderr.isTTY === true,
          quiet: v.quiet === true,
        });
        let tail: string;
        try {
          tail = await copy(reply.body, out, progress);
        } catch (err) {
          throw new CliError(EXIT.failed, `the export was cut short: ${(err as Error).message}`);
        } finally {
          if (file) {
            out.end();
            await once(out, 'close').catch(() => undefined);
          }
        }
        const trailers = reply.trailers();
        const verdict = task !== undefined ? verdictOf(tail) : undefined;
        const counted = progress.lines - (format === 'csv' ? 1 : 0) - (verdict ? 1 : 0);
        const rows =
          trailers['x-agenttrail-rows'] !== undefined ? Number(trailers['x-agenttrail-rows']) : counted;
        progress.done(rows, file ?? 'stdout');
        if (task !== undefined && !verdict)
          throw new CliError(EXIT.failed, 'the export was cut short: it has no chain verdict line');
        if (task === undefined && trailers['x-agenttrail-rows'] === undefined && reply.headers.trailer)
          throw new CliError(EXIT.failed, 'the export was cut short: no X-AgentTrail-Rows trailer');
        if (verdict) io.err(`${clean(verdict.sentence)}\n`);
        return EXIT.ok;
      },
    );
  },
};
