import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { Id, Text, Timestamp } from '../../schemas/common.js';
import { Agent } from '../../schemas/events/envelope.js';
import { Principal, Scope } from '../../schemas/scope.js';
import { parseDocument, readDocument } from '../../services/platform/config-file.js';
import { AgentTrailError } from '../../services/platform/errors.js';
import { loadMappingFile, MappingFile } from '../../services/platform/tool-mapping.js';

// The proxy's configuration file (YAML or JSON), validated once at start. Secrets never sit in
// the file: the API key and any upstream header values are named by environment variable.

/** A task as declared to the proxy: in the config file, or by the client (`_meta`, see declare.ts). */
export const TaskDeclaration = z.strictObject({
  /** Default: a random UUID per proxy run (a task's seq starts at 1, so an id is never reused). */
  task_id: Id.optional(),
  intent: Text.min(1),
  /** Default: the agent itself, as a service principal. */
  declared_by: Principal.optional(),
  scope: Scope,
  expires_at: Timestamp.optional(),
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
});
export type TaskDeclaration = z.infer<typeof TaskDeclaration>;

const SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const ToolPrefix = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]*$/, 'must be letters, digits and _.:-');

const common = {
  /** Mapping file (tool globs → operation, argument paths → targets), relative to this file. */
  mapping: z.string().min(1).optional(),
  /** Prepended to this server's tool and prompt names as the client sees them (default none). */
  tool_prefix: ToolPrefix.default(''),
};

export const StdioServer = z.strictObject({
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Added to the SDK's safe default environment (HOME, PATH, …), not to the proxy's own. */
  env: z.record(EnvName, z.string()).default({}),
  cwd: z.string().optional(),
  ...common,
});

export const HttpServer = z.strictObject({
  transport: z.literal('http'),
  /** Streamable HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  url: z.url({ protocol: /^https?$/ }),
  /** Header name → environment variable holding its value (e.g. `authorization: UPSTREAM_TOKEN`). */
  headers_env: z.record(z.string().min(1), EnvName).default({}),
  ...common,
});

export const ServerConfig = z.discriminatedUnion('transport', [StdioServer, HttpServer]);
export type ServerConfig = z.infer<typeof ServerConfig>;

export const ProxyConfig = z.strictObject({
  version: z.literal(1),
  gateway: z.strictObject({
    /** Gateway base URL, e.g. `http://127.0.0.1:8080`. */
    endpoint: z.url({ protocol: /^https?$/ }),
    /** Environment variable holding the collector API key. */
    api_key_env: EnvName.default('AGENTTRAIL_API_KEY'),
  }),
  tenant: Id,
  agent: Agent,
  /** `record`: forward every call and record it. `enforce`: also refuse calls outside the task's scope. */
  mode: z.enum(['record', 'enforce']).default('record'),
  /** The task the calls belong to. Absent: the client declares it on its first tools/call (`_meta`). */
  task: TaskDeclaration.optional(),
  servers: z.record(z.string(), ServerConfig).superRefine((servers, ctx) => {
    const names = Object.keys(servers);
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one server' });
    for (const name of names) {
      if (!SERVER_NAME.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'must be a lower-case server name (a-z, 0-9, _ -)',
        });
      }
    }
  }),
  /** Longest wait for an upstream answer (progress notifications restart it). */
  request_timeout_ms: z.number().int().positive().max(3_600_000).default(60_000),
  /** Characters of tool output kept in the action's excerpt (the SDK's limit is 4096). */
  excerpt_chars: z.number().int().nonnegative().max(4096).default(1024),
  /** SDK delivery knobs (sdk/client.ts documents each); defaults are the SDK's. */
  sdk: z
    .strictObject({
      batch_size: z.number().int().positive().max(10_000).optional(),
      flush_interval_ms: z.number().int().positive().max(60_000).optional(),
      buffer_capacity: z.number().int().positive().max(1_000_000).optional(),
      buffer_full_timeout_ms: z.number().int().positive().max(600_000).optional(),
    })
    .default({}),
  /** Serve Prometheus `/metrics` on 127.0.0.1 at this port (default: no metrics server). */
  metrics_port: z.number().int().min(0).max(65_535).optional(),
  /** Longest graceful shutdown: drain in-flight calls, record the task's end, flush the outbox. */
  shutdown_timeout_ms: z.number().int().positive().max(600_000).default(10_000),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type ProxyConfig = z.infer<typeof ProxyConfig>;
export type ProxyConfigInput = z.input<typeof ProxyConfig>;

const invalid = (message: string) => new AgentTrailError('AT_ERR_CONFIG_INVALID', message);

/** The config with everything it refers to resolved: mapping files read, secrets taken from env. */
export interface ResolvedConfig {
  config: ProxyConfig;
  apiKey: string;
  servers: Array<{
    name: string;
    server: ServerConfig;
    mapping: MappingFile;
    /** Where the mapping came from (for logs), or undefined when the server has none. */
    mappingPath: string | undefined;
    headers: Record<string, string>;
  }>;
}

export function resolveConfig(
  config: ProxyConfig,
  baseDir: string,
  env: Record<string, string | undefined>,
): ResolvedConfig {
  const need = (field: string, name: string): string => {
    const v = env[name];
    if (!v) throw invalid(`${field} refers to ${name}, which is not set`);
    return v;
  };
  const apiKey = need('gateway.api_key_env', config.gateway.api_key_env);
  const servers = Object.entries(config.servers).map(([name, server]) => {
    const mappingPath =
      server.mapping === undefined
        ? undefined
        : isAbsolute(server.mapping)
          ? server.mapping
          : resolve(baseDir, server.mapping);
    const mapping =
      mappingPath === undefined ? MappingFile.parse({ version: 1 }) : loadMappingFile(mappingPath);
    const headers: Record<string, string> = {};
    if (server.transport === 'http') {
      for (const [header, varName] of Object.entries(server.headers_env)) {
        headers[header] = need(`servers.${name}.headers_env.${header}`, varName);
      }
    }
    const resolvedServer: ServerConfig =
      server.transport === 'stdio' && server.cwd !== undefined
        ? { ...server, cwd: resolve(baseDir, server.cwd) }
        : server;
    return { name, server: resolvedServer, mapping, mappingPath, headers };
  });
  return { config, apiKey, servers };
}

/** Load, validate and resolve a config file. Throws AT_ERR_CONFIG_INVALID naming the field. */
export function loadConfig(path: string, env: Record<string, string | undefined>): ResolvedConfig {
  const config = parseDocument(ProxyConfig, readDocument(path), path);
  return resolveConfig(config, dirname(resolve(path)), env);
}
