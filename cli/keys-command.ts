import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { apiConfigShape } from '../services/api/config.js';
import { gatewayConfigShape } from '../services/gateway/config.js';
import {
  createKey,
  KEY_ROLES,
  type KeyRole,
  readKeysFile,
  revokeKey,
} from '../services/platform/keys/index.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail keys <create|revoke|list> [options]

Keys bound to one tenant, stored hashed (SHA-256). Two kinds, never valid for each other:
  collector keys (atk_…) for the gateway's intake, in GATEWAY_KEYS_FILE;
  API keys (ata_…, with a role) for the query API, in API_KEYS_FILE.
A running gateway or API reloads its file when it changes (or on SIGHUP): created and
revoked keys apply within seconds.

  create --tenant T [--role R] [--label L] [--file F]
        mint a key; prints it once (it is not stored). Without --role a collector key;
        with --role analyst|responder|admin an API key
  revoke ID [--file F]     refuse the key from now on (the record stays); looks in both files
  list [--file F]          key ids, tenants, labels, state and role (never keys); both files

  --file F   keys file (default: $GATEWAY_KEYS_FILE or $API_KEYS_FILE, else gateway-keys.json
             or api-keys.json in the state dir: $AGENTTRAIL_STATE_DIR or .state/)`;

/** The services' own defaults, so the CLI and a service started alongside agree on the file. */
const defaultKeysFile = (): string =>
  gatewayConfigShape.GATEWAY_KEYS_FILE.parse(process.env.GATEWAY_KEYS_FILE || undefined);
const defaultApiKeysFile = (): string =>
  apiConfigShape.API_KEYS_FILE.parse(process.env.API_KEYS_FILE || undefined);

const isRole = (r: string): r is KeyRole => (KEY_ROLES as readonly string[]).includes(r);

export const keysCommand: Command = {
  summary: 'create, revoke and list keys: collector keys (gateway) and API keys with a role (query API)',
  async run(argv) {
    if (wantsHelp(argv) || argv.length === 0) {
      process.stdout.write(`${HELP}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const [action, ...rest] = argv;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        tenant: { type: 'string' },
        label: { type: 'string' },
        file: { type: 'string' },
        role: { type: 'string' },
      },
      allowPositionals: action === 'revoke',
    });
    // Without --file: the collector file, and for API keys (or revoke/list) the API file too.
    const files = values.file ? [values.file] : [defaultKeysFile(), defaultApiKeysFile()];
    if (action === 'create') {
      if (!values.tenant) {
        process.stderr.write('agenttrail keys create: --tenant is required\n');
        return 2;
      }
      if (values.role !== undefined && !isRole(values.role)) {
        process.stderr.write(`agenttrail keys create: --role must be one of ${KEY_ROLES.join(', ')}\n`);
        return 2;
      }
      const file = values.file ?? (values.role ? defaultApiKeysFile() : defaultKeysFile());
      try {
        const { key, record } = createKey(file, values.tenant, values.label, values.role);
        const what = record.role ? `API key (role ${record.role})` : 'collector key';
        process.stderr.write(`created ${what} ${record.id} for tenant ${record.tenant} in ${file}\n`);
        process.stdout.write(`${key}\n`);
        return 0;
      } catch (err) {
        process.stderr.write(`agenttrail keys create: ${(err as Error).message}\n`);
        return 1;
      }
    }
    if (action === 'revoke') {
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0) {
        process.stderr.write('agenttrail keys revoke: give exactly one key id (see `keys list`)\n');
        return 2;
      }
      const file = files.find((f) => readKeysFile(f).keys.some((k) => k.id === id)) ?? files[0]!;
      try {
        const { record, alreadyRevoked } = revokeKey(file, id);
        process.stderr.write(
          alreadyRevoked
            ? `key ${id} was already revoked at ${record.revoked_at}\n`
            : `revoked key ${id} (tenant ${record.tenant}) in ${file}; a running ${record.role ? 'API' : 'gateway'} refuses it once it has reloaded the file\n`,
        );
        return 0;
      } catch (err) {
        process.stderr.write(`agenttrail keys revoke: ${(err as Error).message}\n`);
        return 1;
      }
    }
    if (action === 'list') {
      for (const file of files) {
        if (!existsSync(file)) continue;
        for (const k of readKeysFile(file).keys) {
          const state = k.revoked_at ? `revoked ${k.revoked_at}` : 'active';
          // API keys add their role as a fifth column; collector lines stay as they were.
          const role = k.role ? `\t${k.role}` : '';
          process.stdout.write(`${k.id}\t${k.tenant}\t${k.label ?? ''}\t${state}${role}\n`);
        }
      }
      return 0;
    }
    process.stderr.write(`agenttrail keys: unknown action '${action}'\n${HELP}\n`);
    return 2;
  },
};
