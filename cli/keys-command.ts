import { parseArgs } from 'node:util';
import { createKey, readKeysFile } from '../services/gateway/keys.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail keys <create|list> [options]

Collector API keys for the gateway, bound to one tenant and stored hashed (SHA-256)
in the keys file the gateway reads at start (GATEWAY_KEYS_FILE).

  create --tenant T [--label L] [--file F]   mint a key; prints it once (it is not stored)
  list [--file F]                            list key ids, tenants and labels (never keys)

  --file F   keys file (default: $GATEWAY_KEYS_FILE or .state/gateway-keys.json)`;

export const keysCommand: Command = {
  summary: 'create and list collector API keys for the gateway',
  async run(argv) {
    if (wantsHelp(argv) || argv.length === 0) {
      process.stdout.write(`${HELP}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const [action, ...rest] = argv;
    const { values } = parseArgs({
      args: rest,
      options: { tenant: { type: 'string' }, label: { type: 'string' }, file: { type: 'string' } },
    });
    const file = values.file ?? process.env.GATEWAY_KEYS_FILE ?? '.state/gateway-keys.json';
    if (action === 'create') {
      if (!values.tenant) {
        process.stderr.write('agenttrail keys create: --tenant is required\n');
        return 2;
      }
      const { key, record } = createKey(file, values.tenant, values.label);
      process.stderr.write(`created key ${record.id} for tenant ${record.tenant} in ${file}\n`);
      process.stdout.write(`${key}\n`);
      return 0;
    }
    if (action === 'list') {
      for (const k of readKeysFile(file).keys) {
        process.stdout.write(`${k.id}\t${k.tenant}\t${k.label ?? ''}\n`);
      }
      return 0;
    }
    process.stderr.write(`agenttrail keys: unknown action '${action}'\n${HELP}\n`);
    return 2;
  },
};
