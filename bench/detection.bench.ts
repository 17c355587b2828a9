// Detection quality on a labelled, seeded corpus (scenarios/detection-corpus.ts): one shared
// detector over every run, as in production. A regression guard, not the score that matters (the
// held-out set of recorded agent runs is scored outside this repository).
//
//   npx tsx bench/detection.bench.ts [--seed 13] [--instances 10] [--benign-runs 5] [--legacy]
//
// A run is flagged when any alert names its task (the measure: per run, over all alerts).
// Per task family: precision, recall and F1 of attacked runs against that family's benign runs;
// recall per attack variant; benign false-positive rate; how guessed-value mistakes were judged.
// `--legacy` writes the corpus in contract 1.0 (first target only, no scope.recipients); it is
// chosen automatically on a tree whose schema has no action targets, so the same file measures
// an older detector. Progress on stderr; the LAST stdout line is a JSON object of the figures.

import { type CorpusRun, generateCorpus, type LearnInput } from '../scenarios/detection-corpus.js';
import { Action, type Alert, type ScopeInput } from '../schemas/index.js';
import { createDetector } from '../services/detector/engine.js';
import { loadDefaultRules } from '../services/detector/rules/default-rules.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const log = (msg: string) => process.stderr.write(`[detection-bench] ${msg}\n`);

const SEED = Number(arg('seed', '13'));
const INSTANCES = Number(arg('instances', '10'));
const BENIGN_RUNS = Number(arg('benign-runs', '5'));
const supportsTargets = 'targets' in (Action as unknown as { shape: Record<string, unknown> }).shape;
const LEGACY = process.argv.includes('--legacy') || !supportsTargets;

/** The tree's scope learner when it has one; else the values as they are (no literal escapes). */
async function learner(): Promise<(calls: LearnInput[]) => ScopeInput> {
  const path = '../services/detector/scope/learn.js';
  try {
    const mod = (await import(path)) as { learnScope: (c: LearnInput[]) => ScopeInput };
    return mod.learnScope;
  } catch {
    log('no scope learner in this tree: learning the values as written');
    return (calls) => {
      const byPair = new Map<
        string,
        { tools: string[]; operations: [LearnInput['operation']]; resources?: string[] }
      >();
      const egress = new Set<string>();
      for (const c of calls) {
        const key = `${c.tool} ${c.operation}`;
        const e = byPair.get(key) ?? { tools: [c.tool], operations: [c.operation], resources: [] };
        if (c.resource === undefined) delete e.resources;
        else if (e.resources && !e.resources.includes(c.resource)) e.resources.push(c.resource);
        byPair.set(key, e);
        if (c.destination !== undefined)
          egress.add(
            c.destination
              .replace(/^.*@/, '')
              .replace(/^\w+:\/\//, '')
              .split('/')[0]!,
          );
      }
      return { allow: [...byPair.values()], egress: [...egress] };
    };
  }
}

interface Counts {
  attacks: number;
  detected: number;
  benign: number;
  benign_flagged: number;
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);
function score(c: Counts) {
  const precision = ratio(c.detected, c.detected + c.benign_flagged);
  const recall = ratio(c.detected, c.attacks);
  const f1 =
    precision === null || recall === null || precision + recall === 0
      ? null
      : Math.round(((2 * precision * recall) / (precision + recall)) * 1000) / 1000;
  return { ...c, precision, recall, f1, benign_fp_rate: ratio(c.benign_flagged, c.benign) };
}

async function main() {
  const learn = await learner();
  const started = performance.now();
  const runs: CorpusRun[] = generateCorpus({
    seed: SEED,
    instances: INSTANCES,
    benignRuns: BENIGN_RUNS,
    legacy: LEGACY,
    learn,
  });
  log(`${runs.length} runs (${LEGACY ? 'contract 1.0 encoding' : 'contract 1.1, targets'}), seed ${SEED}`);

  // One detector for every run, events in arrival order.
  const detector = createDetector({ rules: loadDefaultRules(), clock: () => 0 });
  const events = runs.flatMap((r) => r.events).sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
  const alerts: Alert[] = [];
  for (const e of events) alerts.push(...detector.process(e));
  alerts.push(...detector.flush());
  const byTask = new Map<string, Alert[]>();
  for (const a of alerts) {
    const list = byTask.get(a.task_id);
    if (list === undefined) byTask.set(a.task_id, [a]);
    else list.push(a);
  }

  const families = new Map<string, Counts>();
  const variants = new Map<string, { runs: number; detected: number }>();
  const total: Counts = { attacks: 0, detected: 0, benign: 0, benign_flagged: 0 };
  const benignRules: Record<string, number> = {};
  const mistakes = { runs: 0, flagged: 0, by_severity: {} as Record<string, number> };
  const attackSeverity: Record<string, number> = {};
  const SEVERITY = ['info', 'low', 'medium', 'high', 'critical'];
  const top = (list: Alert[]) =>
    list.reduce((m, a) => (SEVERITY.indexOf(a.severity) > SEVERITY.indexOf(m) ? a.severity : m), 'info');
  for (const r of runs) {
    const fired = byTask.get(r.taskId) ?? [];
    const f = families.get(r.family) ?? { attacks: 0, detected: 0, benign: 0, benign_flagged: 0 };
    families.set(r.family, f);
    if (r.label === 'benign') {
      f.benign++;
      total.benign++;
      if (fired.length > 0) {
        f.benign_flagged++;
        total.benign_flagged++;
        for (const id of new Set(fired.map((a) => a.rule_id))) benignRules[id] = (benignRules[id] ?? 0) + 1;
      }
    } else if (r.label === 'attack') {
      f.attacks++;
      total.attacks++;
      const key = `${r.family}/${r.variant}`;
      const v = variants.get(key) ?? { runs: 0, detected: 0 };
      variants.set(key, v);
      v.runs++;
      if (fired.length > 0) {
        f.detected++;
        total.detected++;
        v.detected++;
        const s = top(fired);
        attackSeverity[s] = (attackSeverity[s] ?? 0) + 1;
      }
    } else {
      mistakes.runs++;
      if (fired.length > 0) {
        mistakes.flagged++;
        const s = top(fired);
        mistakes.by_severity[s] = (mistakes.by_severity[s] ?? 0) + 1;
      }
    }
  }
  const perFamily = Object.fromEntries([...families].map(([k, c]) => [k, score(c)]));
  for (const [k, s] of Object.entries(perFamily))
    log(
      `${k.padEnd(18)} P ${s.precision ?? '-'}  R ${s.recall ?? '-'}  F1 ${s.f1 ?? '-'}  benign FP ${s.benign_flagged}/${s.benign}`,
    );
  const overall = score(total);
  log(
    `overall            P ${overall.precision}  R ${overall.recall}  F1 ${overall.f1}  FP rate ${overall.benign_fp_rate}`,
  );
  log(`benign runs flagged by rule: ${JSON.stringify(benignRules)}`);
  process.stdout.write(
    `${JSON.stringify({
      runs: runs.length,
      events: events.length,
      encoding: LEGACY ? 'contract-1.0' : 'contract-1.1',
      seed: SEED,
      overall,
      benign_fp_rate: overall.benign_fp_rate,
      per_family: perFamily,
      recall_per_variant: Object.fromEntries(
        [...variants].map(([k, v]) => [
          k,
          { runs: v.runs, detected: v.detected, recall: ratio(v.detected, v.runs) },
        ]),
      ),
      attack_top_severity: attackSeverity,
      mistakes,
      benign_flagged_by_rule: benignRules,
      alerts: alerts.length,
      seconds: Math.round((performance.now() - started) / 10) / 100,
    })}\n`,
  );
}

await main();
