import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import type { Alert, RoutesFileInput } from '../../schemas/index.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// The real alerter as a child process (`node --import tsx services/alerter/main.ts`), so tests
// can kill -9 it, plus small helpers to feed it alerts and read its delivery log.

export interface AlerterProcess {
  child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function writeRoutes(routes: RoutesFileInput): string {
  const dir = mkdtempSync(join(tmpdir(), 'agenttrail-routes-'));
  const path = join(dir, 'routes.json');
  writeFileSync(path, JSON.stringify(routes, null, 2));
  return path;
}

export async function spawnAlerter(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<AlerterProcess> {
  // A status topic of the test's own unless it names one: never the shared default's records.
  const statusTopic = env.KAFKA_TOPIC_ALERTS
    ? { KAFKA_TOPIC_ALERT_STATUS: `${env.KAFKA_TOPIC_ALERTS}_status` }
    : {};
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/alerter/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...statusTopic, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let ready = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output.push(text);
    if (text.includes('"alerter started"')) ready = true;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const deadline = Date.now() + readyTimeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  while (!ready) {
    if (exitCode !== undefined) throw new Error(`alerter exited with ${exitCode}:\n${output.join('')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`alerter not ready in ${readyTimeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function produceAlerts(producer: Producer, topic: string, alerts: Alert[]): Promise<void> {
  await producer.send({
    topic,
    acks: -1,
    messages: alerts.map((a) => ({ key: a.task_id, value: JSON.stringify(a) })),
  });
}

export interface LoggedDelivery {
  alert_id: string;
  destination: string;
  attempt: number;
  status: string;
  http_status: number | null;
  error: string | null;
  delivery_id: string;
  group_count: number;
  latency_ms: number;
}

export async function deliveryRows(ch: ClickHouseClient, alertIds: string[]): Promise<LoggedDelivery[]> {
  const rs = await ch.query({
    query: `SELECT alert_id, destination, attempt, status, http_status, error, delivery_id, group_count, latency_ms
            FROM alert_deliveries FINAL WHERE alert_id IN {ids:Array(String)}
            ORDER BY destination, alert_id, attempt`,
    query_params: { ids: alertIds },
    format: 'JSONEachRow',
  });
  return (await rs.json<LoggedDelivery>()).map((r) => ({
    ...r,
    attempt: Number(r.attempt),
    group_count: Number(r.group_count),
  }));
}

export async function waitUntil(
  pred: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Poll the delivery log until `pred` holds for the rows of `alertIds`; returns those rows. */
export async function waitForRows(
  ch: ClickHouseClient,
  alertIds: string[],
  pred: (rows: LoggedDelivery[]) => boolean,
  timeoutMs = 10_000,
): Promise<LoggedDelivery[]> {
  let rows: LoggedDelivery[] = [];
  await waitUntil(
    async () => {
      rows = await deliveryRows(ch, alertIds);
      return pred(rows);
    },
    timeoutMs,
    'delivery rows',
  );
  return rows;
}
