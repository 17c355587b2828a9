import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, storedAlerts, storedEventCounts } from '../cli/pipeline/observe.js';
import { type ChainEvent, verifyChain } from '../schemas/index.js';
import { rowToEventInput } from '../services/platform/clickhouse/read/event-rebuild.js';
import { createReadLayer } from '../services/platform/clickhouse/read/index.js';
import { pythonCommand, repoRoot } from '../stack/paths.js';
import { type E2E, startE2E } from './helpers/pipeline.js';
import { readmePythonBlock } from './helpers/readme.js';
import { clickhouseClient } from './helpers/stack.js';

// The Python SDK (sdk/python) against the real pipeline: README's quick start, run as written,
// and a larger task (secrets, non-ASCII and astral text, a lone surrogate, 2**60, nested
// arguments, a failing tool, an action larger than a request) sent through the gateway over
// HTTP. Every event must be stored in ClickHouse, the stored chain must verify with the
// TypeScript verifier (so the Python SDK hashed exactly what the gateway stores, redaction
// included), the detector must see no integrity problem, and it must judge the quick start's
// out-of-scope action as it would a TypeScript agent's.

const TENANT = 'acme';
let e2e: E2E;
const ch = clickhouseClient();

function python(args: string[], input?: string): string {
  const r = spawnSync(pythonCommand(), args, {
    input,
    encoding: 'utf8',
    env: {
      ...process.env,
      PYTHONPATH: join(repoRoot, 'sdk/python'),
      KEY: e2e.pipeline.apiKey,
      AGENTTRAIL_URL: e2e.pipeline.gatewayUrl,
    },
    timeout: 60_000,
  });
  if (r.error) throw new Error(`${pythonCommand()} could not be run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

async function storedChain(taskId: string): Promise<ChainEvent[]> {
  const rows = await createReadLayer({
    client: ch,
    database: e2e.run,
    caller: 'python-sdk-test',
  }).events.task(TENANT, taskId);
  return rows.map((r) => rowToEventInput(r) as ChainEvent);
}

let quick: { taskId: string; stats: string };
let big: { task_id: string; stats: Record<string, number>; errors: string[] };

beforeAll(async () => {
  e2e = await startE2E('python_sdk', { tenant: TENANT, secret: 'whsec_python_sdk', prefix: 't_pysdk_int' });
  const out = python(['-'], readmePythonBlock('**Python SDK**')).trim().split('\n').at(-1)!;
  const [taskId, ...stats] = out.split(' ');
  quick = { taskId: taskId!, stats: stats.join(' ') };
  big = JSON.parse(
    python([
      join(repoRoot, 'sdk/python/tests/gateway_task.py'),
      e2e.pipeline.gatewayUrl,
      e2e.pipeline.apiKey,
      TENANT,
    ]),
  );
});

afterAll(async () => {
  if (e2e) expect(await e2e.stop()).toEqual({ gateway: 0, ingester: 0, detector: 0, alerter: 0 });
  await ch.close();
});

describe('Python SDK → gateway → Kafka → ClickHouse', () => {
  it('README quick start runs as written: 4 events accepted, stored, chain verified', async () => {
    expect(quick.stats).toBe("{'accepted': 4, 'refused': 0, 'unrecorded': 0, 'adjusted': 0, 'pending': 0}");
    const counts = await pollUntil(
      () => storedEventCounts(ch, e2e.run, TENANT, [quick.taskId]),
      (c) => c.distinct >= 4,
      30_000,
    );
    expect(counts.value).toEqual({ raw: 4, distinct: 4 });
    const stored = await storedChain(quick.taskId);
    expect(stored.map((e) => e.type)).toEqual(['task.declared', 'action', 'action', 'task.ended']);
    expect(verifyChain(stored)).toEqual({ ok: true, problems: [] });
  });

  it('the detector judges the quick start: the out-of-scope action raises AT-SCOPE-001, no integrity alert', async () => {
    const alerts = await pollUntil(
      () => storedAlerts(ch, e2e.run, TENANT, [quick.taskId]),
      (a) => a.some((x) => x.rule_id === 'AT-SCOPE-001'),
      30_000,
    );
    expect(alerts.met).toBe(true);
    expect(alerts.value.filter((a) => a.rule_id.startsWith('AT-INT-'))).toEqual([]);
  });

  it('a larger task (secrets, non-ASCII, lone surrogate, 2**60, fitted action) is stored whole and verifies', async () => {
    expect(big.errors).toEqual([]);
    // declared + 120 calls + the oversized action + ended
    expect(big.stats).toEqual({ accepted: 123, refused: 0, unrecorded: 0, adjusted: 2, pending: 0 });
    const counts = await pollUntil(
      () => storedEventCounts(ch, e2e.run, TENANT, [big.task_id]),
      (c) => c.distinct >= 123,
      30_000,
    );
    expect(counts.value).toEqual({ raw: 123, distinct: 123 });
    const stored = await storedChain(big.task_id);
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 123 }, (_, i) => i + 1));
    expect(verifyChain(stored)).toEqual({ ok: true, problems: [] });

    const text = JSON.stringify(stored);
    expect(text).not.toContain(`ghp_${'Zx9'.repeat(12)}`);
    expect(text).toContain('[REDACTED:github_token]');
    const second = stored[1]!;
    expect((second.data as { arguments: { big: number } }).arguments.big).toBe(2 ** 60);
    expect((stored[0]!.agent as { instance: string }).instance).toBe('pod-ü-😀');
    const adjusted = stored.filter((e) => (e.data as { adjusted?: unknown[] }).adjusted).map((e) => e.seq);
    expect(adjusted).toEqual([8, 122]); // the lone surrogate (U+FFFD), the fitted action

    // The query API's own check of the stored record agrees.
    const res = await fetch(`${e2e.pipeline.queryApiUrl}/v1/tasks/${encodeURIComponent(big.task_id)}`, {
      headers: { authorization: `Bearer ${e2e.pipeline.queryApiKey}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { chain: { status: string } }).chain.status).toBe('verified');
    // In scope throughout: no alert at all, integrity or otherwise.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await storedAlerts(ch, e2e.run, TENANT, [big.task_id])).toEqual([]);
  });
});
