import { type ParseArgsConfig, parseArgs } from 'node:util';
import { Tenant } from '../../schemas/index.js';
import { wantsHelp } from '../command.js';
import { apiError, CliError, EXIT } from './exit.js';
import {
  directTransport,
  httpTransport,
  type Query,
  type Reply,
  readAll,
  type Transport,
} from './transport.js';

// The harness every investigation command runs in: --help, argument parsing (exit 2 on a bad
// option, before anything is contacted), choosing the mode, and turning failures into the
// documented exit codes with a message on stderr that never holds a key.

type Options = NonNullable<ParseArgsConfig['options']>;

export const CONNECTION_OPTIONS = {
  api: { type: 'string' },
  key: { type: 'string' },
  tenant: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

export const CONNECTION_HELP = `connection (one of):
  --api URL --key KEY  a running query API; the key decides the tenant (also from
                       AGENTTRAIL_API_URL and AGENTTRAIL_API_KEY, which keeps the key out of
                       shell history)
  --tenant T           straight at ClickHouse, for an operator on the box: CLICKHOUSE_URL,
                       CLICKHOUSE_DATABASE, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD; the API's
                       own code runs in this process, so the answers are the API's; read only
  --json               machine output: the API's JSON answer, unchanged`;

export interface Connection {
  api?: string | undefined;
  key?: string | undefined;
  tenant?: string | undefined;
}

export type Mode = { mode: 'api'; url: string; key: string } | { mode: 'direct'; tenant: string };

/** Which mode the flags (and AGENTTRAIL_API_* env) ask for; a usage error when unclear. */
export function chooseMode(flags: Connection, env: NodeJS.ProcessEnv = process.env): Mode {
  if (flags.api !== undefined && flags.tenant !== undefined)
    throw new CliError(EXIT.usage, "--tenant is for direct mode; with --api the key's tenant is used");
  const url = flags.api ?? (flags.tenant === undefined ? env.AGENTTRAIL_API_URL || undefined : undefined);
  if (url !== undefined) {
    const key = flags.key ?? (env.AGENTTRAIL_API_KEY || undefined);
    if (!key) throw new CliError(EXIT.usage, '--api needs --key (or AGENTTRAIL_API_KEY)');
    return { mode: 'api', url, key };
  }
  if (flags.key !== undefined) throw new CliError(EXIT.usage, '--key needs --api (or AGENTTRAIL_API_URL)');
  if (flags.tenant === undefined)
    throw new CliError(
      EXIT.usage,
      'say where to read: --api URL --key KEY, or --tenant T (straight at ClickHouse)',
    );
  if (!Tenant.safeParse(flags.tenant).success)
    throw new CliError(EXIT.usage, '--tenant must be a tenant id (lowercase letters, digits, - and _)');
  return { mode: 'direct', tenant: flags.tenant };
}

export function openTransport(m: Mode): Promise<Transport> {
  return m.mode === 'api' ? Promise.resolve(httpTransport(m.url, m.key)) : directTransport(m.tenant);
}

/** A key never reaches a terminal, whatever a message quotes. */
export const redact = (s: string): string => s.replace(/\bat[ak]_[0-9a-f]{12}_[A-Za-z0-9_-]+/g, '<key>');

export interface Io {
  out(text: string): void;
  err(text: string): void;
}
export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(redact(t)),
};

export interface Ctx<V> {
  values: V;
  positionals: string[];
  io: Io;
  /** The mode chosen, known before connecting. */
  mode: Mode['mode'];
  /** Connects on first use, so usage errors come before any connection attempt. */
  transport(): Promise<Transport>;
}

export interface Spec {
  name: string;
  help: string;
  options: Options;
  /** How many positionals are allowed (default 0). */
  positionals?: { min: number; max: number; what: string };
}

export async function investigate<V>(
  spec: Spec,
  argv: string[],
  body: (ctx: Ctx<V>) => Promise<number>,
  io: Io = processIo,
): Promise<number> {
  const fail = (e: CliError) => {
    io.err(`agenttrail ${spec.name}: ${e.message}\n`);
    return e.exitCode;
  };
  if (wantsHelp(argv)) {
    io.out(`${spec.help}\n`);
    return EXIT.ok;
  }
  let parsed: { values: unknown; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...CONNECTION_OPTIONS, ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail(new CliError(EXIT.usage, `${(err as Error).message} (see --help)`));
  }
  const p = spec.positionals ?? { min: 0, max: 0, what: '' };
  if (parsed.positionals.length < p.min || parsed.positionals.length > p.max) {
    const extra = parsed.positionals.length > p.max ? `unexpected argument ${parsed.positionals[p.max]}` : '';
    return fail(new CliError(EXIT.usage, extra || `give ${p.what} (see --help)`));
  }
  let t: Transport | undefined;
  try {
    const mode = chooseMode(parsed.values as Connection);
    return await body({
      values: parsed.values as V,
      positionals: parsed.positionals,
      io,
      mode: mode.mode,
      transport: async () => {
        t ??= await openTransport(mode);
        return t;
      },
    });
  } catch (err) {
    if (err instanceof CliError) return fail(err);
    return fail(new CliError(EXIT.failed, (err as Error).message ?? String(err)));
  } finally {
    await t?.close().catch(() => undefined);
  }
}

/** An answer that must be 200, as a stream (exports). */
export async function ok(reply: Reply, target?: string): Promise<Reply> {
  if (reply.status === 200) return reply;
  throw apiError(reply.status, await readAll(reply.body), target);
}

export async function getJson<T = Record<string, unknown>>(
  t: Transport,
  path: string,
  query?: Query,
): Promise<T> {
  const r = await ok(await t.request('GET', path, query ? { query } : {}), t.target);
  return JSON.parse(await readAll(r.body)) as T;
}

export async function postJson<T = Record<string, unknown>>(
  t: Transport,
  path: string,
  body: unknown,
): Promise<T> {
  const r = await ok(await t.request('POST', path, { body }), t.target);
  return JSON.parse(await readAll(r.body)) as T;
}

export const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
