import { type StackEndpoints, type StackStatus, stackDown, stackStatus, stackUp } from '../stack/index.js';
import { type Command, wantsHelp } from './command.js';

const HELP = `usage: agenttrail stack <up|down|status> [--json]

Local Kafka (KRaft, single node) and ClickHouse for development, tests and the demo.
State, data and logs live in the state dir: $AGENTTRAIL_STATE_DIR, else .state/ in the
checkout. Kafka's jars are a cache shared by every state dir, one folder per stack/pom.xml
version: $AGENTTRAIL_KAFKA_LIBS, else ~/.cache/agenttrail/kafka-libs.

Stacks of different state dirs run side by side: ports are chosen under one lock for the
whole machine, held until the engine has bound them, and an engine only counts as healthy
when it is this state dir's own (Kafka's cluster id, ClickHouse's data path). A restarted
engine gets the ports it had back when they are free, so clients keep working.

  up      start both (or reuse the running ones), wait until healthy, print endpoints
  down    stop what 'up' started
  status  show what runs where

options:
  --json  print a JSON document on stdout (progress still goes to stderr)

With KAFKA_BROKERS and CLICKHOUSE_URL set, 'up' starts nothing and reports those.`;

const print = (text: string): void => void process.stdout.write(`${text}\n`);

function printEndpoints(ep: StackEndpoints): void {
  const how = (part: 'kafka' | 'clickhouse') =>
    ep.external ? 'external' : ep.started.includes(part) ? 'started' : 'reused';
  print(`kafka       ${ep.kafka.brokers.join(',')}  (${how('kafka')})`);
  print(`clickhouse  ${ep.clickhouse.url}  (${how('clickhouse')})`);
  print(`state       ${ep.stateDir}`);
  print('');
  print(`export KAFKA_BROKERS=${ep.kafka.brokers.join(',')} CLICKHOUSE_URL=${ep.clickhouse.url}`);
}

function printStatus(st: StackStatus): void {
  const k = st.kafka;
  const c = st.clickhouse;
  print(`kafka       ${k.state.padEnd(9)} ${k.brokers?.join(',') ?? '-'}${k.pid ? `  pid ${k.pid}` : ''}`);
  print(`clickhouse  ${c.state.padEnd(9)} ${c.url ?? '-'}${c.pid ? `  pid ${c.pid}` : ''}`);
  print(`state       ${st.stateDir}`);
  if (k.logFile) print(`logs        ${k.logFile}`);
  if (c.logFile) print(`            ${c.logFile}`);
}

export const stackCommand: Command = {
  summary: 'start/stop/inspect the local Kafka + ClickHouse stack',
  async run(argv) {
    const [action, ...rest] = argv;
    if (!action || wantsHelp(argv)) {
      print(HELP);
      return action || wantsHelp(argv) ? 0 : 1;
    }
    const unknown = rest.filter((a) => a !== '--json');
    if (unknown.length > 0) {
      process.stderr.write(`agenttrail stack: unexpected argument(s) ${unknown.join(' ')}\n\n${HELP}\n`);
      return 2;
    }
    const json = rest.includes('--json');

    switch (action) {
      case 'up': {
        const ep = await stackUp();
        if (json) print(JSON.stringify(ep, null, 2));
        else printEndpoints(ep);
        return 0;
      }
      case 'down': {
        const res = await stackDown();
        if (json) print(JSON.stringify(res, null, 2));
        else print(res.stopped.length ? `stopped: ${res.stopped.join(', ')}` : 'nothing was running');
        return 0;
      }
      case 'status': {
        const st = await stackStatus();
        if (json) print(JSON.stringify(st, null, 2));
        else printStatus(st);
        // Non-zero when something is not serving, so scripts can use `stack status` as a probe.
        const ok = [st.kafka.state, st.clickhouse.state].every((s) => s === 'running' || s === 'external');
        return ok ? 0 : 3;
      }
      default:
        process.stderr.write(`agenttrail stack: unknown action '${action}'\n\n${HELP}\n`);
        return 2;
    }
  },
};
