import { parseArgs } from 'node:util';
import { loadConfig } from '../collectors/mcp-proxy/config.js';
import { runProxy } from '../collectors/mcp-proxy/run.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail mcp-proxy --config FILE [--check]

An MCP server that sits between an agent (the MCP client, on this process's stdin/stdout) and
the MCP servers named in FILE (stdio children or streamable HTTP). Everything is forwarded
unchanged; each tools/call is recorded as an action of the task, through the AgentTrail SDK.
In enforce mode (mode: enforce) a call outside the task's scope is refused (JSON-RPC error
-32003, data.code AT_ERR_MCP_OUT_OF_SCOPE) and recorded as denied.

  --config FILE   the proxy's YAML or JSON config (README "MCP proxy" documents every field)
  --check         validate the config and its mapping files, print a summary, exit

Logs are JSON lines on stderr (stdout is the MCP channel). Stops when the client closes stdin
(the task ends 'completed') or on SIGTERM/SIGINT ('cancelled'), after in-flight calls answer
and the SDK's buffer is flushed; exit 1 if events could not be delivered in time.
Exit 78 when the config is invalid (the message names the field).`;

export const mcpProxyCommand: Command = {
  summary: 'run the MCP proxy: forward MCP traffic, record each tools/call as an action',
  async run(argv) {
    if (wantsHelp(argv)) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, check: { type: 'boolean', default: false } },
    });
    if (!values.config) {
      process.stderr.write(`agenttrail mcp-proxy: --config is required\n\n${HELP}\n`);
      return 2;
    }
    let resolved: ReturnType<typeof loadConfig>;
    try {
      resolved = loadConfig(values.config, process.env);
    } catch (err) {
      process.stderr.write(`agenttrail mcp-proxy: ${(err as Error).message}\n`);
      return 78;
    }
    if (values.check) {
      // stdout is free here: no MCP session runs in --check.
      const c = resolved.config;
      process.stdout.write(
        `${JSON.stringify({
          ok: true,
          mode: c.mode,
          task: c.task ? { task_id: c.task.task_id ?? '(random per run)', intent: c.task.intent } : null,
          servers: resolved.servers.map((s) => ({
            name: s.name,
            transport: s.server.transport,
            mapping: s.mappingPath ?? null,
            rules: s.mapping.tools.length,
          })),
        })}\n`,
      );
      return 0;
    }
    const proxy = await runProxy(resolved);
    const code = await proxy.done;
    // Exit now: nothing is left to deliver, and an upstream's or the SDK's timers must not hold us.
    process.exit(code);
  },
};
