import { parseArgs } from 'node:util';
import { gatewayConfigShape } from '../services/gateway/config.js';
import { createKey, readKeysFile, revokeKey } from '../services/gateway/keys.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail keys <create|revoke|list> [options]

Collector API keys for the gateway, bound to one tenant and stored hashed (SHA-256)
in the keys file the gateway reads (GATEWAY_KEYS_FILE). A running gateway reloads the
file when it changes (or on SIGHUP): created and revoked keys apply within seconds.

  create --tenant T [--label L] [--file F]   mint a key; prints it once (it is not stored)
  revoke ID [--file F]                       refuse the key from now on (the record stays)
  list [--file F]                            key ids, tenants, labels and state (never keys)

  --file F   keys file (default: $GATEWAY_KEYS_FILE, else gateway-keys.json in the state
             dir: $AGENTTRAIL_STATE_DIR or .state/)`;

/** The gateway's own default, so the CLI and a gateway started alongside agree on the file. */
const defaultKeysFile = (): string =>
  gatewayConfigShape.GATEWAY_KEYS_FILE.parse(process.env.GATEWAY_KEYS_FILE);

export const keysCommand: Command = {
  summary: 'create, revoke and list collector API keys for the gateway',
  async run(argv) {
    if (wantsHelp(argv) || argv.length === 0) {
      process.stdout.write(`${HELP}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const [action, ...rest] = argv;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { tenant: { type: 'string' }, label: { type: 'string' }, file: { type: 'string' } },
      allowPositionals: action === 'revoke',
    });
    const file = values.file ?? defaultKeysFile();
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
    if (action === 'revoke') {
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0) {
        process.stderr.write('agenttrail keys revoke: give exactly one key id (see `keys list`)\n');
        return 2;
      }
      try {
        const { record, alreadyRevoked } = revokeKey(file, id);
        process.stderr.write(
          alreadyRevoked
            ? `key ${id} was already revoked at ${record.revoked_at}\n`
            : `revoked key ${id} (tenant ${record.tenant}) in ${file}; a running gateway refuses it once it has reloaded the file\n`,
        );
        return 0;
      } catch (err) {
        process.stderr.write(`agenttrail keys revoke: ${(err as Error).message}\n`);
        return 1;
      }
    }
    if (action === 'list') {
      for (const k of readKeysFile(file).keys) {
        const state = k.revoked_at ? `revoked ${k.revoked_at}` : 'active';
        process.stdout.write(`${k.id}\t${k.tenant}\t${k.label ?? ''}\t${state}\n`);
      }
      return 0;
    }
    process.stderr.write(`agenttrail keys: unknown action '${action}'\n${HELP}\n`);
    return 2;
  },
};
