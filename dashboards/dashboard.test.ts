import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlerterMetrics } from '../services/alerter/metrics.js';
import { createApiMetrics } from '../services/api/metrics.js';
import { createDetectorMetrics } from '../services/detector/io/metrics.js';
import { createGatewayMetrics } from '../services/gateway/metrics.js';
import { createStageMetrics } from '../services/platform/metrics.js';
import { WriteHealth } from '../services/platform/write-health.js';

// dashboards/agenttrail.json may only query what the services export: every metric name in a
// panel's PromQL must be registered by the real metric code, built as each main.ts builds it
// (no server, Kafka or ClickHouse), and every label it filters or groups on must exist on it.

const DASHBOARD = join(import.meta.dirname, 'agenttrail.json');
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** One registry per service, wired as in services/<name>/main.ts (the gateway's in app.ts). */
function serviceRegistries(): Record<string, Registry> {
  const gateway = createGatewayMetrics().registry;
  const ingester = createStageMetrics('ingester').registry;
  const detector = createStageMetrics('detector').registry;
  createDetectorMetrics(detector);
  const alerter = createStageMetrics('alerter').registry;
  createAlerterMetrics(alerter);
  for (const [stage, registry] of Object.entries({ ingester, detector, alerter }))
    new WriteHealth({ stage, notReadyAfterMs: 30_000, registry });
  const api = createApiMetrics().registry;
  return { gateway, ingester, detector, alerter, api };
}

interface Family {
  type: string;
  labels: Set<string>;
  services: Set<string>;
}

/**
 * Families by name. Label names are the metric's own `labelNames` (a runtime field prom-client
 * does not type) plus the registry's default labels, found as the labels every value carries.
 */
async function exportedFamilies(): Promise<Map<string, Family>> {
  const families = new Map<string, Family>();
  for (const [service, registry] of Object.entries(serviceRegistries())) {
    const json = await registry.getMetricsAsJSON();
    let defaults: Set<string> | undefined;
    for (const m of json) {
      for (const v of m.values) {
        const keys = new Set(Object.keys(v.labels));
        defaults = defaults ? new Set([...defaults].filter((k) => keys.has(k))) : keys;
      }
    }
    for (const m of json) {
      const own = (registry.getSingleMetric(m.name) as unknown as { labelNames?: readonly string[] })
        .labelNames;
      const f = families.get(m.name) ?? { type: String(m.type), labels: new Set(), services: new Set() };
      for (const l of [...(own ?? []), ...(defaults ?? [])]) f.labels.add(l);
      f.services.add(service);
      families.set(m.name, f);
    }
  }
  return families;
}

// ---- a small PromQL reader: enough for selectors, `by (...)` and function calls -----------------

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'inf',
  'nan',
]);
/** Labels Prometheus adds to every scraped series (target labels). */
const SCRAPE_LABELS = ['job', 'instance'];

interface Selector {
  name: string;
  matchers: Array<{ label: string; op: string; value: string }>;
}

interface ParsedExpr {
  selectors: Selector[];
  grouping: string[];
}

function parsePromql(expr: string): ParsedExpr {
  const grouping: string[] = [];
  const selectors: Selector[] = [];
  let rest = expr.replace(/\[[^\]]*\]/g, ' '); // range selectors and subqueries: [5m], [1h:1m]
  rest = rest.replace(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_, labels: string) => {
      for (const l of labels.split(',')) if (l.trim()) grouping.push(l.trim());
      return ' ';
    },
  );
  rest = rest.replace(
    /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g,
    (_, name: string | undefined, body: string) => {
      const matchers = [
        ...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g),
      ].map((m) => ({ label: m[1]!, op: m[2]!, value: m[3]! }));
      const nameMatcher = matchers.find((m) => m.label === '__name__' && m.op === '=');
      selectors.push({ name: name ?? nameMatcher?.value ?? '', matchers });
      return ' ';
    },
  );
  rest = rest.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' '); // string arguments
  // Numbers and durations first, so `5m` or `1e3` are not read as names.
  for (const m of rest.matchAll(
    /\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-zA-Z]*|\$\{?\w+\}?|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g,
  )) {
    const [, ident, call] = m;
    if (!ident || call || KEYWORDS.has(ident.toLowerCase())) continue;
    selectors.push({ name: ident, matchers: [] });
  }
  return { selectors, grouping };
}

/** The family a series name belongs to, and whether it is a histogram's `_bucket` series. */
function resolve(name: string, families: Map<string, Family>): { family?: Family; bucket: boolean } {
  const direct = families.get(name);
  if (direct && direct.type !== 'histogram' && direct.type !== 'summary')
    return { family: direct, bucket: false };
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return { bucket: false };
  const base = families.get(m[1]!);
  if (base?.type === 'histogram') return { family: base, bucket: m[2] === 'bucket' };
  if (base?.type === 'summary' && m[2] !== 'bucket') return { family: base, bucket: false };
  return { bucket: false };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: Panel[];
}

interface Dashboard {
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = allPanels(dashboard.panels);
const queries = panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: `#${p.id} ${p.title}`, expr: t.expr ?? '' })),
);

describe('the PromQL reader', () => {
  it('finds names, matchers and grouping labels, not functions, keywords or durations', () => {
    const r = parsePromql(
      'histogram_quantile(0.99, sum by (le, type) (rate(a_bucket{stage="x", code=~"A|B"}[5m]))) / on (job) b_total offset 1h',
    );
    expect(r.selectors.map((s) => s.name)).toEqual(['a_bucket', 'b_total']);
    expect(r.selectors[0]!.matchers.map((m) => m.label)).toEqual(['stage', 'code']);
    expect(r.grouping).toEqual(['le', 'type', 'job']);
  });
});

describe('dashboards/agenttrail.json', () => {
  let families: Map<string, Family>;
  beforeAll(async () => {
    families = await exportedFamilies();
  });

  it('is a Grafana dashboard on a Prometheus datasource variable, no hard-coded uid', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      if (p.type === 'row') continue;
      expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
      for (const ds of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]) {
        expect(ds, p.title).toEqual(DATASOURCE);
      }
    }
  });

  it('queries only metrics the services register, with labels they carry', () => {
    expect(queries.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const { panel, expr } of queries) {
      const { selectors, grouping } = parsePromql(expr);
      if (selectors.length === 0) problems.push(`${panel}: no metric in ${expr}`);
      for (const s of selectors) {
        const { family, bucket } = resolve(s.name, families);
        if (!family) {
          problems.push(`${panel}: ${s.name || '(no name)'} is not exported by any service`);
          continue;
        }
        const labels = new Set([...family.labels, ...SCRAPE_LABELS, ...(bucket ? ['le'] : [])]);
        for (const m of s.matchers) {
          if (!labels.has(m.label)) problems.push(`${panel}: ${s.name} has no label '${m.label}'`);
          // stage/service values name the exporting service: catches stage="ingestor" and a
          // service's metric filtered by another service's name.
          if (
            (m.label === 'stage' || m.label === 'service') &&
            m.op === '=' &&
            !family.services.has(m.value)
          ) {
            problems.push(`${panel}: ${s.name} is not exported by '${m.value}'`);
          }
        }
        // Grouping labels must exist on every series the expression aggregates.
        for (const l of grouping) {
          if (!labels.has(l)) problems.push(`${panel}: ${s.name} has no label '${l}' (by/on)`);
        }
      }
      if (expr.includes('histogram_quantile(')) {
        for (const s of selectors) {
          if (!resolve(s.name, families).bucket) {
            problems.push(`${panel}: histogram_quantile over ${s.name}, not a histogram's _bucket series`);
          }
        }
        if (!grouping.includes('le')) problems.push(`${panel}: histogram_quantile without 'le' in by (...)`);
      }
    }
    expect(problems).toEqual([]);
  });
});
