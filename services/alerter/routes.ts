import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { type Alert, SEVERITY_RANK } from '../../schemas/alert.js';
import { type Destination, type Route, type RouteMatch, RoutesFile } from '../../schemas/route.js';
import { AgentTrailError } from '../platform/errors.js';
import { compileGlobList } from '../platform/glob.js';

/** A destination with its secrets resolved. Never log one of these whole. */
export type ResolvedDestination = Destination & {
  name: string;
  target_url: string;
  signing_secret?: string;
  routing_key?: string;
};

export interface Routing {
  destinations: ReadonlyMap<string, ResolvedDestination>;
  routes: readonly Route[];
}

const fail = (message: string) => new AgentTrailError('AT_ERR_CONFIG_INVALID', message);

/** Validate a parsed routes document; errors name the path inside the file. */
export function parseRoutes(doc: unknown, source = 'routes'): RoutesFile {
  const result = RoutesFile.safeParse(doc);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw fail(`${source}: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * Resolve `*_env` references against `env` once, at start. A missing variable fails start-up
 * naming the variable, never its value.
 */
export function resolveRouting(file: RoutesFile, env: Record<string, string | undefined>): Routing {
  const need = (dest: string, key: string, varName: string): string => {
    const v = env[varName];
    if (!v) throw fail(`destination "${dest}": ${key} refers to ${varName}, which is not set`);
    return v;
  };
  const destinations = new Map<string, ResolvedDestination>();
  for (const [name, d] of Object.entries(file.destinations)) {
    const target_url = d.url_env ? need(name, 'url_env', d.url_env) : d.url;
    if (!target_url || !URL.canParse(target_url)) throw fail(`destination "${name}": the URL is not valid`);
    const resolved: ResolvedDestination = { ...d, name, target_url };
    if (d.type === 'webhook') resolved.signing_secret = need(name, 'secret_env', d.secret_env);
    if (d.type === 'pagerduty') resolved.routing_key = need(name, 'routing_key_env', d.routing_key_env);
    destinations.set(name, resolved);
  }
  return { destinations, routes: file.routes };
}

/** Read a JSON or YAML routes file (by extension; YAML is a superset of JSON anyway). */
export async function loadRouting(path: string, env: Record<string, string | undefined>): Promise<Routing> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fail(`routes file ${path} cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw fail(
      `routes file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  return resolveRouting(parseRoutes(doc, path), env);
}

export function matches(m: RouteMatch, alert: Alert): boolean {
  if (m.min_severity && SEVERITY_RANK[alert.severity] < SEVERITY_RANK[m.min_severity]) return false;
  if (m.rules && !compileGlobList(m.rules, 'id')(alert.rule_id)) return false;
  if (m.tenants && !m.tenants.includes(alert.tenant)) return false;
  if (m.agents && !compileGlobList(m.agents, 'id')(alert.agent_id)) return false;
  if (m.labels) {
    for (const [k, v] of Object.entries(m.labels)) if (alert.labels[k] !== v) return false;
  }
  return true;
}

/** Destination names for an alert, in route order, without repeats. */
export function route(routes: readonly Route[], alert: Alert): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    if (!matches(r.match, alert)) continue;
    for (const d of r.destinations) out.add(d);
    if (r.final) break;
  }
  return [...out];
}
