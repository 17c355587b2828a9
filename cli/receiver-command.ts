import { parseArgs } from 'node:util';
import { type Command, wantsHelp } from './command.js';
import { startReceiver } from './pipeline/receiver.js';

const HELP = `usage: agenttrail receiver [--port N] [--secret-env VAR]

A local webhook receiver for trying the alerter by hand: listens on 127.0.0.1, answers 200,
and prints one line per page (rule, severity, task, group count, signature verdict).
A page whose signature does not verify is answered 401, as a real receiver would.

  --port N          port to listen on (default 9000; examples/alerter-routes.yaml points there)
  --secret-env VAR  environment variable holding the webhook secret (default
                    ALERTER_WEBHOOK_SECRET); unset: signatures are not checked

Stops on Ctrl-C.`;

interface PageBody {
  kind?: string;
  group?: { count?: number };
  alert?: { rule_id?: string; severity?: string; task_id?: string; tenant?: string };
}

export const receiverCommand: Command = {
  summary: 'run a local signature-checking webhook receiver for alerter pages',
  async run(argv) {
    if (wantsHelp(argv)) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { values } = parseArgs({
      args: argv,
      options: { port: { type: 'string', default: '9000' }, 'secret-env': { type: 'string' } },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      process.stderr.write(`agenttrail receiver: --port must be a port number, got '${values.port}'\n`);
      return 2;
    }
    const secretEnv = values['secret-env'] ?? 'ALERTER_WEBHOOK_SECRET';
    const secret = process.env[secretEnv] || undefined;
    const rx = await startReceiver({
      port,
      secret,
      onReceive(r) {
        const page = (r.json ?? {}) as PageBody;
        const a = page.alert ?? {};
        const sig = r.signature
          ? r.signature.ok
            ? 'signature ok'
            : `signature BAD (${r.signature.reason})`
          : 'unsigned';
        process.stdout.write(
          `${new Date(r.at).toISOString()}  ${String(r.answer)}  ${page.kind ?? '?'}  ${a.rule_id ?? '?'}  ${a.severity ?? '?'}  ${a.tenant ?? '?'}/${a.task_id ?? '?'}  x${page.group?.count ?? 1}  ${sig}\n`,
        );
      },
    });
    process.stderr.write(
      `receiver listening on ${rx.url}${secret ? ` (verifying with $${secretEnv})` : ` ($${secretEnv} unset: not verifying signatures)`}\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await rx.close();
    return 0;
  },
};
