import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type Notification,
  ReadResourceRequestSchema,
  ResultSchema,
  type ServerCapabilities,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../services/platform/logger.js';
import { compileMapping, EMPTY_MAPPING } from '../../services/platform/tool-mapping.js';
import { declarationFromMeta, forwardedMeta } from './declare.js';
import { relayed, unknownTarget } from './errors.js';
import type { TaskRecorder } from './recorder.js';
import type { ToolResult } from './result-text.js';
import { PROXY_INFO, type Upstream } from './upstream.js';

// The server the agent talks to. Every request is forwarded to the upstream that owns its tool,
// prompt or resource, with its parameters and the upstream's answer (result or error) passed on
// as they are; tools/call goes through the recorder. With one upstream and no prefix the proxy is
// a straight pipe (cursors included); with several, lists are merged (all pages, no cursor) and
// names carry each server's `tool_prefix`.

const unmapped = compileMapping(EMPTY_MAPPING);

type Kind = 'tool' | 'prompt' | 'resource';
interface Route {
  upstream: Upstream;
  /** The name (or URI) the upstream knows. */
  name: string;
}

export interface ProxyHooks {
  /** Each tools/call's answer, while it is pending (metrics; shutdown waits for these). */
  track?: (answer: Promise<unknown>) => void;
  /** A tools/call on a tool no mapping rule covers (the proxy warns once per tool). */
  onUnmapped?: (server: string, tool: string) => void;
}

/** Union of what the upstreams offer: the proxy claims no capability none of them has. */
export function mergedCapabilities(upstreams: readonly Upstream[]): ServerCapabilities {
  const caps: ServerCapabilities = {};
  const any = (f: (c: ServerCapabilities) => unknown) => upstreams.some((u) => Boolean(f(u.capabilities)));
  if (any((c) => c.tools)) caps.tools = { listChanged: any((c) => c.tools?.listChanged) };
  if (any((c) => c.prompts)) caps.prompts = { listChanged: any((c) => c.prompts?.listChanged) };
  if (any((c) => c.resources)) {
    caps.resources = {
      listChanged: any((c) => c.resources?.listChanged),
      subscribe: any((c) => c.resources?.subscribe),
    };
  }
  if (any((c) => c.logging)) caps.logging = {};
  if (any((c) => c.completions)) caps.completions = {};
  return caps;
}

const LIST = {
  tool: { method: 'tools/list', key: 'tools', field: 'name', cap: 'tools' },
  prompt: { method: 'prompts/list', key: 'prompts', field: 'name', cap: 'prompts' },
  resource: { method: 'resources/list', key: 'resources', field: 'uri', cap: 'resources' },
} as const;

export function createProxyServer(
  upstreams: readonly Upstream[],
  recorder: TaskRecorder,
  opts: { timeoutMs: number; log: Logger; hooks?: ProxyHooks },
): Server {
  const capabilities = mergedCapabilities(upstreams);
  const instructions = upstreams.flatMap((u) => (u.instructions ? [u.instructions] : [])).join('\n\n');
  const server = new Server(PROXY_INFO, {
    capabilities,
    ...(instructions ? { instructions } : {}),
  });
  const { log } = opts;
  const single = upstreams.length === 1 && upstreams[0]!.prefix === '' ? upstreams[0]! : undefined;
  const routes: Record<Kind, Map<string, Route>> = {
    tool: new Map(),
    prompt: new Map(),
    resource: new Map(),
  };
  const warnedUnmapped = new Set<string>();

  const exposed = (u: Upstream, kind: Kind, name: string) =>
    kind === 'resource' ? name : `${u.prefix}${name}`;
  const offering = (kind: Kind | 'templates' | 'logging' | 'completions') =>
    upstreams.filter((u) => {
      const c = u.capabilities;
      if (kind === 'templates') return Boolean(c.resources);
      if (kind === 'logging' || kind === 'completions') return Boolean(c[kind]);
      return Boolean(c[LIST[kind].cap]);
    });

  function reqOptions(
    extra: { signal: AbortSignal; sendNotification: (n: never) => Promise<void> },
    meta: unknown,
  ): RequestOptions {
    const token = (meta as { progressToken?: string | number } | undefined)?.progressToken;
    return {
      signal: extra.signal,
      timeout: opts.timeoutMs,
      resetTimeoutOnProgress: true,
      // The upstream gets a token of the SDK's; its progress goes back under the client's token.
      ...(token === undefined
        ? {}
        : {
            onprogress: (p) => {
              void extra
                .sendNotification({
                  method: 'notifications/progress',
                  params: { ...p, progressToken: token },
                } as never)
                .catch(() => undefined);
            },
          }),
    };
  }

  async function send(u: Upstream, method: string, params: unknown, options?: RequestOptions) {
    try {
      return await u.client.request(
        { method, params: params as Record<string, unknown> },
        ResultSchema,
        options,
      );
    } catch (err) {
      throw relayed(err);
    }
  }

  /** Every page of one upstream's list. */
  async function listAll(u: Upstream, method: string, key: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await send(u, method, cursor === undefined ? {} : { cursor }, { timeout: opts.timeoutMs });
      items.push(...((r[key] as Array<Record<string, unknown>> | undefined) ?? []));
      cursor = typeof r.nextCursor === 'string' ? r.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return items;
  }

  function remember(
    kind: Kind,
    u: Upstream,
    items: Array<Record<string, unknown>>,
  ): Array<Record<string, unknown>> {
    const field = LIST[kind].field;
    const out: Array<Record<string, unknown>> = [];
    for (const item of items) {
      const name = String(item[field]);
      const shown = exposed(u, kind, name);
      const prior = routes[kind].get(shown);
      if (prior && prior.upstream !== u) {
        log.warn(
          { [kind]: shown, kept: prior.upstream.name, dropped: u.name },
          `two servers offer the same ${kind}`,
        );
        continue;
      }
      routes[kind].set(shown, { upstream: u, name });
      out.push(kind === 'resource' ? item : { ...item, [field]: shown });
    }
    return out;
  }

  async function merged(kind: Kind): Promise<Array<Record<string, unknown>>> {
    routes[kind].clear();
    const lists = await Promise.all(
      offering(kind).map(async (u) => remember(kind, u, await listAll(u, LIST[kind].method, LIST[kind].key))),
    );
    return lists.flat();
  }

  async function route(kind: Kind, shown: string): Promise<Route | undefined> {
    if (single) return { upstream: single, name: shown };
    if (!routes[kind].has(shown)) await merged(kind);
    return routes[kind].get(shown);
  }

  async function list(kind: Kind, params: unknown, extra: Parameters<typeof reqOptions>[0]) {
    if (single) {
      const r = await send(single, LIST[kind].method, params, reqOptions(extra, undefined));
      remember(kind, single, (r[LIST[kind].key] as Array<Record<string, unknown>> | undefined) ?? []);
      return r;
    }
    return { [LIST[kind].key]: await merged(kind) };
  }

  // Only handlers for claimed capabilities: the SDK refuses others, and so would a real server.
  if (capabilities.tools) {
    server.setRequestHandler(ListToolsRequestSchema, (req, extra) => list('tool', req.params, extra));
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      const { name, arguments: args, _meta } = req.params;
      const declaration = declarationFromMeta(_meta);
      const r = await route('tool', name).catch(() => undefined);
      let mapped = unmapped(name, args);
      if (r) {
        mapped = r.upstream.mapper(r.name, args);
        if (mapped.rule === undefined && !warnedUnmapped.has(name)) {
          warnedUnmapped.add(name);
          log.warn(
            { server: r.upstream.name, tool: r.name, operation: mapped.operation },
            'tool not covered by the mapping file: recorded with the default operation',
          );
          opts.hooks?.onUnmapped?.(r.upstream.name, r.name);
        }
      }
      const forwardMeta = forwardedMeta(_meta);
      const answer = recorder.call({ tool: name, args, mapped, declaration }, async () => {
        if (!r) throw unknownTarget(`no server offers the tool '${name}'`);
        const params = { ...req.params, name: r.name };
        if (forwardMeta === undefined) delete params._meta;
        else params._meta = forwardMeta as typeof params._meta;
        return (await send(r.upstream, 'tools/call', params, reqOptions(extra, _meta))) as ToolResult;
      });
      opts.hooks?.track?.(answer);
      return (await answer) as never;
    });
  }

  if (capabilities.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (req, extra) => list('prompt', req.params, extra));
    server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
      const r = await route('prompt', req.params.name);
      if (!r) throw unknownTarget(`no server offers the prompt '${req.params.name}'`);
      return (await send(
        r.upstream,
        'prompts/get',
        { ...req.params, name: r.name },
        reqOptions(extra, req.params._meta),
      )) as never;
    });
  }

  if (capabilities.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (req, extra) => list('resource', req.params, extra));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async (req, extra) => {
      if (single)
        return (await send(
          single,
          'resources/templates/list',
          req.params,
          reqOptions(extra, undefined),
        )) as never;
      const lists = await Promise.all(
        offering('templates').map((u) => listAll(u, 'resources/templates/list', 'resourceTemplates')),
      );
      return { resourceTemplates: lists.flat() } as never;
    });
    const byUri =
      (method: string) =>
      async (req: { params: { uri: string; _meta?: unknown } }, extra: Parameters<typeof reqOptions>[0]) => {
        const r = await route('resource', req.params.uri);
        if (!r) throw unknownTarget(`no server lists the resource '${req.params.uri}'`);
        return (await send(r.upstream, method, req.params, reqOptions(extra, req.params._meta))) as never;
      };
    server.setRequestHandler(ReadResourceRequestSchema, byUri('resources/read'));
    if (capabilities.resources.subscribe) {
      server.setRequestHandler(SubscribeRequestSchema, byUri('resources/subscribe'));
      server.setRequestHandler(UnsubscribeRequestSchema, byUri('resources/unsubscribe'));
    }
  }

  if (capabilities.logging) {
    server.setRequestHandler(SetLevelRequestSchema, async (req, extra) => {
      await Promise.all(
        offering('logging').map((u) => send(u, 'logging/setLevel', req.params, reqOptions(extra, undefined))),
      );
      return {};
    });
  }

  if (capabilities.completions) {
    server.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
      const ref = req.params.ref as { type: string; name?: string; uri?: string };
      const r =
        ref.type === 'ref/prompt'
          ? await route('prompt', String(ref.name))
          : single
            ? { upstream: single, name: '' }
            : undefined;
      const target =
        r ??
        (offering('completions').length === 1
          ? { upstream: offering('completions')[0]!, name: '' }
          : undefined);
      if (!target) throw unknownTarget('cannot tell which server completes this reference');
      const ref2 = ref.type === 'ref/prompt' && r ? { ...ref, name: r.name } : ref;
      return (await send(
        target.upstream,
        'completion/complete',
        { ...req.params, ref: ref2 },
        reqOptions(extra, undefined),
      )) as never;
    });
  }

  // Upstream notifications (log messages, list and resource changes) go to the client unchanged.
  for (const u of upstreams) {
    u.client.fallbackNotificationHandler = async (n: Notification) => {
      if (n.method === 'notifications/tools/list_changed') routes.tool.clear();
      if (n.method === 'notifications/prompts/list_changed') routes.prompt.clear();
      if (n.method === 'notifications/resources/list_changed') routes.resource.clear();
      try {
        await server.notification(n as never);
      } catch (err) {
        log.debug({ server: u.name, method: n.method, err }, 'upstream notification not relayed');
      }
    };
  }
  return server;
}
